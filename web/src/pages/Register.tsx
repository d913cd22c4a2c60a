import { useMutation } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { api, call } from "../api/client";
import { PasswordField, TextField } from "../components/Field";
import { Form } from "../components/Form";
import { PageHeading } from "../components/PageHeading";
import { useRetryCountdown } from "../components/useRetryCountdown";
import { useLogin } from "../auth/session";

const FIELDS = ["username", "email", "password"] as const;

/** Register, then sign in with the same credentials and go to the dashboard. */
export default function Register() {
  const navigate = useNavigate();
  const login = useLogin();
  const register = useMutation({
    mutationFn: (body: { username: string; email: string; password: string }) =>
      call(api.POST("/api/v1/auth/register", { body })),
  });
  const retryIn = useRetryCountdown(register.error);

  function onSubmit(form: FormData) {
    const body = {
      username: String(form.get("username") ?? ""),
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
    };
    register.mutate(body, {
      onSuccess: () =>
        login.mutate(
          { login: body.username, password: body.password },
          { onSuccess: () => navigate("/", { replace: true }) },
        ),
    });
  }

  const busy = register.isPending || login.isPending;
  return (
    <section className="narrow">
      <PageHeading>Create an account</PageHeading>
      <Form onSubmit={onSubmit} error={register.error ?? login.error} fieldsShown={FIELDS}>
        <TextField
          label="Username"
          name="username"
          autoComplete="username"
          required
          hint="3–50 letters, digits, _ or -."
        />
        <TextField label="E-mail" name="email" type="email" autoComplete="email" required />
        <PasswordField label="Password" name="password" isNew />
        <button type="submit" disabled={busy || retryIn > 0}>
          {busy ? "Creating…" : "Create account"}
        </button>
      </Form>
      <p>
        Already registered? <Link to="/sign-in">Sign in</Link>
      </p>
    </section>
  );
}
