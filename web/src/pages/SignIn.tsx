import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { fieldErrorOf, PasswordField, TextField } from "../components/Field";
import { Form } from "../components/Form";
import { PageHeading } from "../components/PageHeading";
import { useRetryCountdown } from "../components/useRetryCountdown";
import { safeNext } from "../auth/redirect";
import { useLogin, useMe } from "../auth/session";

export default function SignIn() {
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const navigate = useNavigate();
  const { data: me } = useMe();
  const login = useLogin();
  const retryIn = useRetryCountdown(login.error);

  if (me && !login.isPending) return <Navigate to={next} replace />;

  function onSubmit(form: FormData) {
    login.mutate(
      { login: String(form.get("login") ?? ""), password: String(form.get("password") ?? "") },
      { onSuccess: () => navigate(next, { replace: true }) },
    );
  }

  return (
    <section className="narrow">
      <PageHeading>Sign in</PageHeading>
      {params.has("next") && <p>Please sign in to continue.</p>}
      <Form onSubmit={onSubmit} error={login.error} fieldsShown={["username", "email", "password"]}>
        <TextField
          label="Username or e-mail"
          name="login"
          autoComplete="username"
          required
          error={fieldErrorOf(login.error, "username") ?? fieldErrorOf(login.error, "email")}
        />
        <PasswordField label="Password" name="password" />
        <button type="submit" disabled={login.isPending || retryIn > 0}>
          {login.isPending ? "Signing in…" : "Sign in"}
        </button>
      </Form>
      <p>
        No account yet? <Link to="/register">Register</Link>
      </p>
    </section>
  );
}
