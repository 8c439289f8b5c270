// The console's care round (巡访关爱 and 平安报): the alerts still open (a missed check-in, a
// quiet home, a band's reading), then the visit plan, the longest overdue on top. A visit or
// a phone greeting is one tap (a note and a follow-up optional); seeing the elder stops any
// alert about her. It shares the console's sign-in, helpers (window.linliConsole) and words
// (texts.care).
"use strict";
(() => {
  const { gql, t, say, token, staffRoles } = window.linliConsole;
  const $ = (id) => document.getElementById(id);
  const community = () => $("care-community").value;
  const day = (iso) => new Date(iso).toLocaleDateString("zh-CN", { month: "numeric", day: "numeric" });
  const line = (className, text) => Object.assign(document.createElement("p"), { className, textContent: text });

  function button(label, name, run) {
    const b = Object.assign(document.createElement("button"), { type: "button", name, textContent: label });
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await run();
      } catch (error) {
        say(error.message);
      } finally {
        b.disabled = false;
      }
    });
    return b;
  }

  function field(name, label) {
    const input = Object.assign(document.createElement("input"), { name, maxLength: 200 });
    input.setAttribute("aria-label", label);
    input.placeholder = label;
    return input;
  }

  // One tap records it; what was typed goes with it.
  async function record(personId, name, kind, how, box) {
    const note = box.querySelector('input[name="note"]');
    const followUp = box.querySelector('input[name="followUp"]');
    const variables = { personId, kind, how, note: note ? note.value : "", followUp: followUp ? followUp.value : "" };
    const done = (await gql("RecordVisit", variables)).recordVisit;
    if ("code" in done) return say(done.message);
    say(t("care.recorded", { name }));
    await show();
  }

  function taps(personId, name, box, choices) {
    const actions = document.createElement("div");
    actions.className = "actions";
    actions.append(
      ...choices.map(([kind, how]) =>
        button(t(`care.taps.${kind}_${how}`), `${kind}-${how}`, () => record(personId, name, kind, how, box))
      )
    );
    return actions;
  }

  function alertCard(m) {
    const el = document.createElement("article");
    el.className = "care-alert";
    el.dataset.person = m.personId;
    el.append(
      Object.assign(document.createElement("h4"), { textContent: `${m.name} · ${t(`care.kinds.${m.kind}`)}` }),
      line("address", m.address),
      taps(m.personId, m.name, el, [["visit", "well"], ["call", "well"]])
    );
    return el;
  }

  function visitLine(key, v) {
    const how = t(`care.how.${v.how}`);
    return line(key, t(`care.${key}`, { day: day(v.at), kind: t(`care.visit_kinds.${v.kind}`), how, by: v.byName || "", note: v.note }));
  }

  function planCard(d) {
    const el = document.createElement("article");
    el.className = `visit-due${d.overdueDays ? " overdue" : ""}`;
    el.dataset.person = d.personId;
    const risks = d.riskWords.length ? `【${d.riskWords.join("、")}】` : "";
    el.append(Object.assign(document.createElement("h4"), { textContent: `${d.name} ${d.age ?? ""} ${risks}` }));
    let due;
    if (d.overdueDays) due = t("care.overdue", { days: d.overdueDays });
    else if (!d.lastVisit) due = t("care.never");
    else due = t("care.next", { day: day(`${d.dueOn}T12:00:00`), every: d.everyDays });
    el.append(line("due", due), line("address", `${d.address} · ${d.phone}`));
    if (d.lastVisit) el.append(visitLine("last", d.lastVisit));
    if (d.lastTry && (!d.lastVisit || d.lastTry.id !== d.lastVisit.id)) el.append(visitLine("tried", d.lastTry));
    if (d.openFollowUp) {
      const f = d.openFollowUp;
      el.append(
        line("follow-up", t("care.follow_up", { text: f.followUp, day: day(f.at) })),
        button(t("care.follow_up_done"), "follow-up-done", async () => {
          const done = (await gql("MarkFollowUpDone", { visitId: f.id })).markFollowUpDone;
          if ("code" in done) return say(done.message);
          await show();
        })
      );
    }
    el.append(
      field("note", t("care.note")),
      field("followUp", t("care.follow_up_ask")),
      taps(d.personId, d.name, el, [
        ["visit", "well"],
        ["visit", "unwell"],
        ["call", "well"],
        ["call", "unwell"],
        ["visit", "not_reached"],
      ])
    );
    return el;
  }

  async function showAlerts() {
    const open = (await gql("MissedCheckIns", { communityId: community() })).missedCheckIns;
    $("care-alerts").replaceChildren(...(open.length ? open.map(alertCard) : [line("none", t("care.no_alerts"))]));
  }

  // The plan is read when asked for (a choice changed, a visit recorded, the next page), not on
  // a timer, and a page at a time: each of its phones and addresses is a read in that elder's
  // access log.
  const PAGE = 50;

  async function planPage(after) {
    const variables = { communityId: community(), overdueOnly: $("care-due-only").checked, mine: $("care-mine").checked };
    return (await gql("VisitPlan", { ...variables, first: PAGE, after })).visitPlan;
  }

  function more(page) {
    if (!page.pageInfo.hasNextPage) return [];
    const next = button(t("care.more", { count: PAGE }), "more", async () => {
      const following = await planPage(page.pageInfo.endCursor);
      next.replaceWith(...following.nodes.map(planCard), ...more(following));
    });
    return [next];
  }

  async function showPlan() {
    const page = await planPage(null);
    if (!page.nodes.length) return $("care-list").replaceChildren(line("none", t("care.none_due")));
    const count = line("count", t("care.count", { total: page.total, overdue: page.overdue }));
    $("care-list").replaceChildren(count, ...page.nodes.map(planCard), ...more(page));
  }

  async function show() {
    try {
      await Promise.all([showAlerts(), showPlan()]);
    } catch (error) {
      say(error.message);
    }
  }

  async function start() {
    const staff = await staffRoles($("care-community"));
    if (!staff.length) return;
    // A grid worker starts on her own grids; the centre on the whole community.
    $("care-mine").checked = staff.some((r) => r.role === "GRID_WORKER") && !staff.some((r) => r.role !== "GRID_WORKER");
    $("care").hidden = false;
    await show();
  }

  $("care-community").addEventListener("change", show);
  $("care-due-only").addEventListener("change", show);
  $("care-mine").addEventListener("change", show);
  const waitForSignIn = setInterval(() => {
    if (token() && $("care").hidden) start();
    if (!token()) $("care").hidden = true;
  }, 1000);
  window.addEventListener("unload", () => clearInterval(waitForSignIn));
  setInterval(() => {
    if (token() && !$("care").hidden) showAlerts().catch((error) => say(error.message));
  }, 30000);
})();
