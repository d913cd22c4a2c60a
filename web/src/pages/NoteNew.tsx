import { useNavigate } from "react-router";
import { BackLink } from "../components/BackLink";
import { PageHeading } from "../components/PageHeading";
import { NoteEditor } from "../features/notes/NoteEditor";
import { useCreateNote } from "../features/notes/hooks";

export default function NoteNew() {
  const create = useCreateNote();
  const navigate = useNavigate();
  return (
    <section className="narrow-wide">
      <BackLink to="/notes">All notes</BackLink>
      <PageHeading>New note</PageHeading>
      <NoteEditor
        initial={{ title: "", content: "", is_public: false }}
        canPublish
        submitLabel="Create note"
        pending={create.isPending}
        error={create.error}
        onSubmit={(draft) =>
          create.mutate(draft, {
            onSuccess: (note) => navigate(`/notes/${note.id}`, { replace: true }),
          })
        }
      />
    </section>
  );
}
