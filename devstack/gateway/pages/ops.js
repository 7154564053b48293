// The local operations page: polls /ops/figures.json and shows it as text (never as HTML).
"use strict";

(function () {
  const REFRESH_MS = 2000;
  const COMMANDS = new Set(["add_item", "remove_item", "checkout"]);
  const body = document.querySelector("#commands tbody");
  const status = document.getElementById("status");

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children) node.append(child);
    return node;
  }

  function number(value, digits = 0) {
    return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
  }

  function share(value) {
    return value ? `${(value * 100).toFixed(1)} %` : "0 %";
  }

  function cell(figure, text, bad) {
    const td = el("td", { textContent: text, className: bad ? "bad" : "" });
    td.dataset.figure = figure;
    return td;
  }

  function sparkline(perSecond) {
    const top = Math.max(1, ...perSecond);
    const spark = el("div", { className: "spark", title: "requests per second, last minute" });
    for (const count of perSecond) {
      const bar = el("span");
      bar.style.height = `${(100 * count) / top}%`;
      spark.append(bar);
    }
    return spark;
  }

  function commandRow(name, f) {
    const row = el("tr");
    row.dataset.function = name;
    const title = el("td", {}, el("strong", { textContent: name }), sparkline(f.per_second));
    title.dataset.figure = "function";
    row.append(
      title,
      cell("requests_per_second", number(f.requests_per_second, 2)),
      cell("requests", number(f.requests)),
      cell("p50_ms", number(f.p50_ms, 1)),
      cell("p99_ms", number(f.p99_ms, 1)),
      cell("server_errors", share(f.shares.server_errors), f.shares.server_errors > 0),
      cell("busy", share(f.shares.busy), f.shares.busy > 0),
      cell("throttled", share(f.shares.throttled), f.shares.throttled > 0),
      cell("lock_wait_p99_ms", number(f.lock_wait_p99_ms, 1)),
      cell("retries", number(f.window.retries)),
      cell("units_taken", name === "add_item" ? number(f.window.units_taken) : "–"),
      cell("total", number(f.totals.invocations)),
    );
    return row;
  }

  function outcomes(functions) {
    const box = document.getElementById("outcomes");
    box.replaceChildren();
    for (const [name, f] of Object.entries(functions)) {
      for (const [outcome, count] of Object.entries(f.outcomes)) {
        const status = Number(outcome.split(" ")[0]);
        const kind = status >= 500 ? " failed" : status >= 400 ? " refused" : "";
        const chip = el("span", { className: `outcome${kind}`, textContent: `${name} ${outcome} × ${count}` });
        chip.dataset.outcome = `${name} ${outcome}`;
        box.append(chip);
      }
    }
    if (!box.children.length) box.append(el("span", { className: "muted", textContent: "None yet." }));
  }

  function jobs(functions) {
    const list = document.getElementById("jobs");
    list.replaceChildren();
    const relay = functions.relay_outbox;
    const sweep = functions.release_expired_carts;
    const ago = (f) => (f.seconds_since_last === null ? "never" : `${f.seconds_since_last} s ago`);
    const add = (term, text, id) => {
      const dd = el("dd", { textContent: text });
      dd.id = id;
      list.append(el("dt", { textContent: term }), dd);
    };
    if (relay) {
      add("Outbox: events pending", number(relay.last.outbox_pending), "outbox-pending");
      add("Outbox: oldest pending", `${number(relay.last.outbox_oldest_pending_s)} s`, "outbox-oldest");
      add("Relay: last run", `${ago(relay)}, sent ${number(relay.last.events_sent)}, failed ${number(relay.last.events_failed)}`, "relay-last");
    }
    if (sweep) {
      add("Sweep: last run", `${ago(sweep)}, released ${number(sweep.last.released_carts)} carts, ${number(sweep.last.released_units)} units`, "sweep-last");
      add("Sweep: since start", `${number(sweep.totals.released_units)} units back in stock`, "sweep-total");
    }
    if (!list.children.length) {
      list.append(el("dt", { textContent: "No run yet" }), el("dd", { textContent: "make run triggers both every minute." }));
    }
  }

  function render(figures) {
    document.getElementById("window").textContent = figures.window_seconds;
    const commands = Object.entries(figures.functions).filter(([name]) => COMMANDS.has(name));
    body.replaceChildren(...commands.map(([name, f]) => commandRow(name, f)));
    document.getElementById("no-commands").hidden = commands.length > 0;
    outcomes(Object.fromEntries(commands));
    jobs(figures.functions);
    status.className = "";
    status.textContent = `Updated ${new Date().toLocaleTimeString()}.`;
  }

  async function refresh() {
    try {
      const response = await fetch("/ops/figures.json", { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      render(await response.json());
    } catch (error) {
      status.className = "stale";
      status.textContent = `Not updated: ${error.message}.`;
    } finally {
      setTimeout(refresh, REFRESH_MS);
    }
  }

  refresh();
})();
