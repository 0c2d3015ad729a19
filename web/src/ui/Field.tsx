import { useId } from 'preact/hooks';

/** A labelled input with its hint and error tied to it for screen readers. */
export interface FieldProps {
  readonly label: string;
  readonly hint?: string;
  readonly error?: string | null;
  readonly type?: 'text' | 'email' | 'password';
  readonly name?: string;
  readonly autoComplete?: string;
  readonly required?: boolean;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly value: string;
  readonly onInput: (event: { currentTarget: HTMLInputElement }) => void;
  readonly 'data-testid'?: string;
}

export function Field(props: FieldProps) {
  const { label, hint, error, type = 'text', ...input } = props;
  const id = useId();
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label class="field__label" for={id}>
        {label}
      </label>
      <input
        class="input"
        id={id}
        aria-describedby={described}
        aria-invalid={error ? true : undefined}
        {...input}
        // preact types `type` as a discriminated union (each type with its roles); one variable value does not fit it
        type={type as 'text'}
      />
      {hint && (
        <p class="field__hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field__error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}
