import { PageHeading } from "../components/PageHeading";

export default function Dashboard() {
  return (
    <section>
      <PageHeading>Dashboard</PageHeading>
    </section>
  );
}
