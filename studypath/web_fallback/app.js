// The home page's health table. Text from the API goes in with textContent, never as HTML.
"use strict";

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function status(text) {
  const span = document.createElement("span");
  span.className = text;
  span.textContent = text;
  return span;
}

async function refresh() {
  const summary = document.getElementById("summary");
  try {
    const response = await fetch("/api/v1/health/detailed");
    const body = await response.json();
    const report = response.ok ? body.data : body.error.details;
    summary.replaceChildren(
      "status: ", status(report.status),
      ` · version ${report.version ?? "?"} · up ${Math.round(report.uptime ?? 0)} s · request id `,
      Object.assign(document.createElement("code"), {
        textContent: response.headers.get("X-Request-ID"),
      }),
    );
    const rows = Object.entries(report.checks).map(([name, check]) => {
      const row = document.createElement("tr");
      row.append(cell(name), cell(check.status, check.status), cell(check.message));
      return row;
    });
    const table = document.getElementById("checks");
    table.querySelector("tbody").replaceChildren(...rows);
    table.hidden = false;
  } catch (error) {
    summary.replaceChildren(status("error"));
    summary.firstChild.textContent = `cannot reach the API: ${error}`;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  refresh();
  setInterval(refresh, 5000);
});
