/**
 * The labelled inputs and the error line of the account forms (sign-up, account page),
 * in the markup and classes of the sign-in form (`.login-form`). Server components.
 */

/** Props of {@linkcode FormField}. */
export interface FormFieldProps {
  /** Unique in the page; the input's `id` and the prefix of its hint's id. */
  id: string;
  label: string;
  name: string;
  type?: "text" | "password";
  autocomplete: string;
  value?: string;
  /** A short rule shown under the input (and read with it). */
  hint?: string;
  /** Marks the input invalid and points it at the form's error line (`errorId`). */
  invalid?: boolean;
  /** The id of the form's {@linkcode FormError}. */
  errorId?: string;
  autofocus?: boolean;
  minLength?: number;
  maxLength?: number;
}

/** A label wrapping its input, with an optional hint. */
export function FormField(props: FormFieldProps) {
  const hintId = props.hint ? `${props.id}-hint` : undefined;
  const described = [props.invalid ? props.errorId : undefined, hintId].filter(Boolean);
  return (
    <label for={props.id}>
      {props.label}
      <input
        id={props.id}
        type={props.type ?? "text"}
        name={props.name}
        autocomplete={props.autocomplete}
        required
        value={props.value}
        minLength={props.minLength}
        maxLength={props.maxLength}
        autofocus={props.autofocus}
        aria-invalid={props.invalid ? "true" : undefined}
        aria-describedby={described.length ? described.join(" ") : undefined}
      />
      {props.hint && <small id={hintId} class="field-hint">{props.hint}</small>}
    </label>
  );
}

/** The form's error line, announced when it appears; nothing without a message. */
export function FormError({ id, message }: { id: string; message: string | null }) {
  if (!message) return null;
  return <p class="form-error" role="alert" id={id}>{message}</p>;
}
