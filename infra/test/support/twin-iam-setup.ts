// Before any test file loads an AWS SDK client: the twin's per-function credentials (infra/local/iam/caller.ts).
import '../../local/iam/install.ts';
