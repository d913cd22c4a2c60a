import { PageHeading } from "../components/PageHeading";

export default function TaskCreate() {
  return (
    <section>
      <PageHeading>TaskCreate</PageHeading>
    </section>
  );
}
