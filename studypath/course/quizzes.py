# ruff: noqa: E501  (data: one question or explanation per line reads best)
"""The notebooks' quizzes: questions, options, and the correct option only as a digest.

Each correct option is stored as `answer_digest(question, option)` (a salted SHA-256), so the
answer is not written here or in any notebook. To add a question, compute the digest of its
right option with `answer_digest` and paste it; `tests/course/test_selfcheck.py` checks that every
question has exactly one option matching its digest.
"""

from __future__ import annotations

from studypath.course.quiz import QuizQuestion

QUIZZES: dict[str, tuple[QuizQuestion, ...]] = {
    "week-01": (
        QuizQuestion(
            question="GET /api/v1/nope on this server returns…",
            options=(
                "the SPA's index.html with 200",
                "a JSON 404 error envelope",
                "an empty 404",
            ),
            answer_digest="182814c69e106d22f9b006e88c9189ec8dc259363f33a2a56fea17bb6df68236",
            explanation="SinglePageApp refuses paths under /api/: an API client must get JSON.",
        ),
        QuizQuestion(
            question="A user logs out. Their old session token stops working…",
            options=(
                "immediately",
                "when it expires",
                "after the next deploy",
            ),
            answer_digest="67e677cf285a8b681f3ce6c646e3c2e545e1a692f379755b99852214c063a8dc",
            explanation="logout deletes the sessions row; the next lookup finds nothing.",
        ),
        QuizQuestion(
            question="Why can 'create a user and their first task' be all-or-nothing here?",
            options=(
                "both domains share one PostgreSQL database",
                "the worker retries it",
                "FastAPI is async",
            ),
            answer_digest="e24b0f2c2c0fb3b62beb5e53b80ded9d932c3ea45b47da3c965c5880cf674048",
            explanation="one transaction can span the users and tasks tables (§6).",
        ),
    ),
    "week-02": (
        QuizQuestion(
            question="Someone copies the sessions table. Can they sign in as its users?",
            options=(
                "yes, with the token column",
                "no: it holds SHA-256 hashes of the tokens",
                "only until the tokens expire",
            ),
            answer_digest="3fed5757f5d5acf1a3962d37387ece3cd6dd0f1be436c74dbfe088d0bc7bdd8b",
            explanation="the server hashes what it receives; a hash sent as a token is looked up hashed again (§5).",
        ),
        QuizQuestion(
            question="Why may a fast hash (SHA-256) protect session tokens, but not passwords?",
            options=(
                "tokens are shorter",
                "tokens are 384 random bits: unguessable",
                "tokens expire",
            ),
            answer_digest="0d6c9ddb41eeddd56737b12eacd7d2d7f047be1350598e4ac1ca119f99abac3b",
            explanation="passwords are guessable, so each guess must be expensive (§8).",
        ),
        QuizQuestion(
            question="A moderator asks for an admin's profile. Why 404 and not 403?",
            options=(
                "a bug",
                "so nobody learns which accounts exist",
                "admins are deleted",
            ),
            answer_digest="f4570051a893ea2b1fb5ce204b428c6315cb5a71be43872e64804eb607843874",
            explanation="a hidden row answers exactly like a missing one (§6).",
        ),
    ),
    "week-03": (
        QuizQuestion(
            question="A handler sends an email, then its worker is killed before it records success. The email…",
            options=(
                "is sent once",
                "may be sent twice",
                "is lost",
            ),
            answer_digest="c5cfaaf47460332a7a1844ffe2a5160c53d04b8a7adf2ff5e963f259daa4a4bd",
            explanation="the task runs again after its lease expires: handlers must be idempotent (§9).",
        ),
        QuizQuestion(
            question="Two workers run the claim at the same instant. Without SKIP LOCKED, the second one…",
            options=(
                "gets the same task",
                "waits for the first one's transaction",
                "gets an error at once",
            ),
            answer_digest="f25a8bc541ab91518ce35c025027d57f38b1d3e5c1442f2f5e6264ad6a882af9",
            explanation="FOR UPDATE blocks on the locked row; SKIP LOCKED moves on to the next one (§5).",
        ),
        QuizQuestion(
            question="The breaker of a task type is open. Its waiting tasks…",
            options=(
                "use up their attempts",
                "go to the dead-letter queue",
                "wait without spending attempts",
            ),
            answer_digest="64b4c107326aa8d0243cdb69fa87e2cc46f35297dabb8bf59afe537d78edba09",
            explanation="the claim SQL skips types whose breaker is not closed (§8).",
        ),
        QuizQuestion(
            question="A hundred tasks fail at the same instant. What keeps their retries from arriving together?",
            options=(
                "exponential backoff",
                "jitter",
                "the circuit breaker",
            ),
            answer_digest="cb51d7deaf850253f74c1b676a7be3ac5ce086222626068392433c68a863442e",
            explanation="backoff alone gives every task the same wait; jitter draws each wait at random (§6).",
        ),
    ),
    "week-04": (
        QuizQuestion(
            question="The backend renames a response field and the types are regenerated. Where does the mistake show first?",
            options=(
                "in production, as undefined on the page",
                "in `tsc`, naming every component that read the old field",
                "in the server's logs",
            ),
            answer_digest="1ba74eae022335cf0cb5653a39146ab4d1fb43b5a2f6cce7abef25ea61c84a19",
            explanation="the generated types no longer have the old field: the compiler names each use (§2).",
        ),
        QuizQuestion(
            question="alice leaves Tasks and comes back 10 s later. What does the server see?",
            options=(
                "one GET of the list",
                "nothing: the list is still fresh in the cache",
                "a GET of every page she visited",
            ),
            answer_digest="bc4fb8a49c655953026773ca423299f0125b961c6fb31e48031b60fd977e28c6",
            explanation="staleTime (30 s) keeps the cached list fresh; the log of the revisit is empty (§5.1).",
        ),
        QuizQuestion(
            question="Why can the session cookie be HttpOnly and SameSite=Strict here?",
            options=(
                "the page and the API share one origin",
                "the cookie is encrypted",
                "the CDN forwards it",
            ),
            answer_digest="e95b22c67642c213792f0256986015ed23b68091d4bf608f4f59cfaa649c8deb",
            explanation="the same process serves the app and the API (in development, the proxy keeps one origin) (§3, §6).",
        ),
    ),
    "week-05": (
        QuizQuestion(
            question="Bob asks for a note he may not read. He gets…",
            options=(
                "403 Forbidden",
                "404 Not Found",
                "200 with an empty body",
            ),
            answer_digest="ebed456f454e853a62ff6f793550cfea94820984ca337cc91b7f966bb51a7be5",
            explanation="a note you may not see does not exist for you: the access function says None, the API 404 (§5).",
        ),
        QuizQuestion(
            question="Carol shares a note with Bob. Where does 'one share per user' hold, whatever the code does?",
            options=(
                "in the service function",
                "in a unique constraint on note_shares",
                "in the API's request schema",
            ),
            answer_digest="932020baa0daa65c73b385ac605881c28f63b32db95ef763b8606592e185ce01",
            explanation="rules that must always hold are constraints the database enforces (§2).",
        ),
        QuizQuestion(
            question="The share-notification task runs twice (a retry). Bob gets…",
            options=(
                "two notifications",
                "one notification",
                "none: the retry fails",
            ),
            answer_digest="576f02bc89475fe287d1a9f3713c007d947b23e544c863f0381b3a1b09187b63",
            explanation="the notification is keyed by the task (dedupe_key, unique): the second insert changes nothing (§5).",
        ),
    ),
    "week-06": (
        QuizQuestion(
            question="A test's database is created how?",
            options=(
                "by running every migration",
                "by copying a migrated template",
                "by deleting the rows of the last test",
            ),
            answer_digest="d4b3c207335fd18aea3c88a3cf84bab436d4f3e42c8686eec0fbbf243672e4ea",
            explanation="CREATE DATABASE … TEMPLATE copies the migrated files: migrations run once per process (§2).",
        ),
        QuizQuestion(
            question="A unit test mocks list_notes. A bug in list_notes' SQL is caught by…",
            options=(
                "the unit test",
                "an integration test on a real database",
                "both",
            ),
            answer_digest="e0ec60fda23ab98d013322a2717108c462dea48492e405ca780c2b5a5c0adae7",
            explanation="the mock answers what the test told it to: the SQL never runs (§6).",
        ),
        QuizQuestion(
            question="All your tests pass against a mutant. The mutant…",
            options=(
                "is killed",
                "survives",
                "is a flaky test",
            ),
            answer_digest="a9270e96688c81ee2455f666eb116bcf9e781402914a422c1d33770767f69bdd",
            explanation="a mutant dies only when at least one test fails with its bug in place (§9).",
        ),
    ),
    "week-07": (
        QuizQuestion(
            question="Support asks: which items were in order A-1001?",
            options=(
                "a metric",
                "an event",
                "a trace",
            ),
            answer_digest="ed9f0ddeb6b135df5463e72ee775f88f9238d789e862e0a1d1c923b28c198e41",
            explanation="one row per occurrence, with its tags and payload (§2a).",
        ),
        QuizQuestion(
            question="You want a dashboard of p95 latency per route over a month. Which do you keep?",
            options=(
                "every request's log lines",
                "a latency histogram per route",
                "every trace",
            ),
            answer_digest="0ce51de5cd6fb96f48a72b13d58ee356756061224b59b039b438f2f607707824",
            explanation="a few numbers per series, whatever the traffic; quantiles come from the buckets (§3).",
        ),
        QuizQuestion(
            question="A request was slow yesterday. Where do you see whether auth or the SQL took the time?",
            options=(
                "the counter",
                "its trace",
                "the events table",
            ),
            answer_digest="18b0a3d7afc143071476111c693380889f120a78289b1384d72239f6a98066a5",
            explanation="a tree of timed spans: auth, handler, service, each statement (§2d).",
        ),
        QuizQuestion(
            question="Why does the route label say /api/v1/monitoring/events/{event_id}?",
            options=(
                "it is shorter",
                "to keep the number of series bounded",
                "Prometheus cannot store ids",
            ),
            answer_digest="139d164f5487c8540d24cdd42c98550d9600f079a1e1d2fd7124ac05e4b40954",
            explanation="every label combination is a series: raw ids would make them unbounded (§3).",
        ),
    ),
    "week-07b": (
        QuizQuestion(
            question="A worker is killed with SIGKILL while it runs a task. What becomes of the task?",
            options=(
                "it is lost",
                "its lease runs out and another worker claims it again",
                "the API server runs it",
            ),
            answer_digest="001f368cb0efd8381fd5e0ce670e66752b7961b729722128ee6c41f52a837888",
            explanation="no heartbeat renews its lease; once it expires the task is put back and claimed again — a redelivery (§3).",
        ),
        QuizQuestion(
            question="A redelivered task ran its work twice. Why is there still one effect?",
            options=(
                "the worker remembers it",
                "the effect is written under a unique key",
                "PostgreSQL retries nothing",
            ),
            answer_digest="219512ce32c68f4dda206c5c0277fdf57b47fabc16b46f9e580704e2467e3773",
            explanation="the ledger's unique key absorbs the second write: duplicates are counted, and stay 0 (§3, §9).",
        ),
        QuizQuestion(
            question="PostgreSQL is down. What should the API answer?",
            options=(
                "nothing until it is back",
                "500 Internal Server Error",
                "503 with an error envelope, at once",
            ),
            answer_digest="21682342e3af9bdcc92ac6c61051cbf9bdfb8e00f0a5c34cd562113a3b885290",
            explanation="a quick 'try again later' keeps clients and load balancers informed; a hang holds their connections (§9).",
        ),
        QuizQuestion(
            question="The breaker of a task type is open. What do the workers do with its tasks?",
            options=(
                "leave them queued, then let one probe through",
                "call the dependency anyway",
                "dead-letter them",
            ),
            answer_digest="53352c6f7daf0dfd9d0cab731898ed30dd100f0f3146638cb4647d8c11485a1f",
            explanation="open: no claims, no calls; after the recovery timeout one probe (half-open) decides (§6).",
        ),
    ),
    "week-08": (
        QuizQuestion(
            question="The database is down. Which probe should fail, so that traffic stops but the pod is not restarted?",
            options=(
                "liveness",
                "readiness",
                "startup",
            ),
            answer_digest="9a2b8bdf531f15baaeea5bf1885c0e7f5ffa247f1a3ea3910cf263a55cd29d9a",
            explanation="readiness takes an instance out of the pool; a failing liveness would restart processes that are fine (§3).",
        ),
        QuizQuestion(
            question="Old and new versions run side by side during a rolling deploy. Which schema change is safe to apply first?",
            options=(
                "rename a column the old version reads",
                "add a nullable column",
                "drop a column the new version no longer reads",
            ),
            answer_digest="0fc7cd1ec72ed6682920500286b29db236b9b3e3b5a957d3aa5dcffdab0f0a16",
            explanation="expand first: the old version ignores the new column; renames and drops wait for the contract step (§4).",
        ),
        QuizQuestion(
            question="A deploy fails its health gate after the migration ran. What does the rollback undo?",
            options=(
                "the migration",
                "the Deployments: the previous image runs again",
                "both, in one transaction",
            ),
            answer_digest="61e71a643aca22a001e2991d6c4a873b7c37d6d9578278bce979d93c15ccc0e2",
            explanation="expand-only migrations stay: the previous version works on the expanded schema (§5, .ci/deploy).",
        ),
        QuizQuestion(
            question="Where do production secrets (the database password) come from?",
            options=(
                "the image, copied in at build time",
                "the environment at run time: .env for compose, a Secret in Kubernetes",
                "the Git repository",
            ),
            answer_digest="3eaae763bf58c60d35c2472e02e6d4a2d0cb99d6324393d4a66f88369f5afd5a",
            explanation=".dockerignore keeps .env out of the build context; the checklist checks it (§6).",
        ),
    ),
}
