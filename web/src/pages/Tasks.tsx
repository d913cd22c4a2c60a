import { PageHeading } from "../components/PageHeading";

export default function Tasks() {
  return (
    <section>
      <PageHeading>Tasks</PageHeading>
    </section>
  );
}
