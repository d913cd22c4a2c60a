import { Fragment, type ReactNode } from "react";

/** A thing's facts as a description list: each label (in order) and its value. */
export function DescriptionList({ items }: { items: Readonly<Record<string, ReactNode>> }) {
  return (
    <dl className="details">
      {Object.entries(items).map(([label, value]) => (
        <Fragment key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </Fragment>
      ))}
    </dl>
  );
}
