/** A form's outcome: errors interrupt (role=alert), confirmations wait their turn (role=status). */
export function FormAlert(props: { error?: string | null; success?: string | null }) {
  if (props.error)
    return (
      <p class="alert alert--error" role="alert" data-testid="form-error">
        {props.error}
      </p>
    );
  if (props.success)
    return (
      <p class="alert alert--success" role="status">
        {props.success}
      </p>
    );
  return null;
}
