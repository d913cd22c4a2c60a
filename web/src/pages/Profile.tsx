import { PageHeading } from "../components/PageHeading";

export default function Profile() {
  return (
    <section>
      <PageHeading>Profile</PageHeading>
    </section>
  );
}
