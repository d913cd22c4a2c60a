import { PageHeading } from "../components/PageHeading";

export default function TaskDetail() {
  return (
    <section>
      <PageHeading>TaskDetail</PageHeading>
    </section>
  );
}
