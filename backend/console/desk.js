// The console's consultation desk: the open threads of the desks one answers at (a
// supervisor: every desk of the community), the promise that runs out first on top; reply,
// take a thread, close it, and (the family doctor) read a consenting elder's health profile.
// It shares the console's sign-in, helpers (window.linliConsole) and words (texts.desk).
"use strict";
(() => {
  const { gql, t, say, token } = window.linliConsole;
  const $ = (id) => document.getElementById(id);
  let me = null;
  let desks = [];
  let looked = false; // asked once per sign-in which desks are mine

  const community = () => $("desk-community").value;
  const clock = (iso) => new Date(iso).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit" });

  // A mutation's answer: its object, or a UserError said in words.
  async function act(name, variables, key) {
    try {
      const result = (await gql(name, variables))[key];
      if (result && "code" in result) {
        say(result.message);
        return null;
      }
      return result;
    } catch (error) {
      say(error.message);
      return null;
    }
  }

  function line(className, text) {
    return Object.assign(document.createElement("p"), { className, textContent: text });
  }

  function action(label, name, run) {
    const b = document.createElement("button");
    b.type = "button";
    b.name = name;
    b.textContent = label;
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await run();
      } finally {
        b.disabled = false;
      }
    });
    return b;
  }

  async function showProfile(thread, box) {
    const found = (await gql("ConsultationHealthProfile", { threadId: thread.id })).consultationHealthProfile;
    box.replaceChildren();
    if ("code" in found) return box.append(line("profile", found.message));
    for (const key of ["conditions", "allergies", "medicines", "notes"]) {
      if (found[key]) box.append(line("profile", `${t(key)}：${found[key]}`));
    }
  }

  function card(thread) {
    const el = document.createElement("article");
    el.className = `thread ${thread.status}${thread.overdue ? " overdue" : ""}`;
    el.dataset.id = thread.id;
    const h = document.createElement("h4");
    h.textContent = `${thread.deskName} · ${thread.elderName} · ${t(`desk.doors.${thread.door}`)}`;
    el.append(h);
    if (thread.status === "WAITING") {
      el.append(line("clock", thread.overdue ? t("desk.overdue") : t("desk.due", { time: clock(thread.dueAt) })));
    } else {
      el.append(line("clock", t("desk.answered")));
    }
    if (thread.ringBack) el.append(line("ring-back", t("desk.ring_back", { phone: thread.ringBack })));
    el.append(line("assignee", thread.assigneeName ? t("desk.assignee", { name: thread.assigneeName }) : t("desk.unassigned")));
    for (const m of thread.messages) {
      el.append(line(m.fromDesk ? "from-desk" : "from-asker", `${clock(m.at)} ${m.authorName}：${m.text}`));
    }
    const text = Object.assign(document.createElement("textarea"), { rows: 2, maxLength: 1000, name: "reply" });
    text.setAttribute("aria-label", t("desk.reply"));
    const actions = document.createElement("div");
    actions.className = "actions";
    actions.append(
      action(t("desk.reply"), "reply", async () => {
        if (!text.value.trim()) return;
        if (await act("ReplyToConsultation", { threadId: thread.id, text: text.value }, "replyToConsultation")) {
          say(t("desk.sent", { name: thread.elderName }));
          await show();
        }
      }),
      action(t("desk.close"), "close", async () => {
        if (await act("CloseConsultation", { threadId: thread.id }, "closeConsultation")) await show();
      })
    );
    if (me && thread.assigneeName === null) {
      actions.append(
        action(t("desk.take"), "take", async () => {
          if (await act("AssignConsultation", { threadId: thread.id, personId: me }, "assignConsultation")) await show();
        })
      );
    }
    const profile = document.createElement("div");
    if (desks.some((d) => d.doctor && d.communityId === community() && thread.desk === "DOCTOR")) {
      actions.append(action(t("desk.health"), "health", () => showProfile(thread, profile)));
    }
    el.append(text, actions, profile);
    return el;
  }

  async function show() {
    try {
      const threads = (await gql("DeskQueue", { communityId: community() })).deskQueue;
      const list = $("desk-list");
      // A reply being typed is not wiped by the refresh.
      const typing = [...list.querySelectorAll("textarea")].some((el) => el.value && el === document.activeElement);
      if (typing) return;
      list.replaceChildren(...threads.map(card));
      if (!threads.length) list.append(line("none", t("desk.none")));
    } catch (error) {
      say(error.message);
    }
  }

  async function start() {
    looked = true;
    let found;
    try {
      found = await gql("MyDesks");
    } catch (error) {
      return;
    }
    desks = found.myDesks;
    me = found.me.id;
    if (!desks.length) return;
    const seen = new Map(desks.map((d) => [d.communityId, d.communityName]));
    $("desk-community").replaceChildren(
      ...[...seen.entries()].map(([value, label]) => Object.assign(document.createElement("option"), { value, textContent: label }))
    );
    $("desk").hidden = false;
    await show();
  }

  $("desk-community").addEventListener("change", show);
  const waitForSignIn = setInterval(() => {
    if (token() && !looked) start();
    if (!token()) {
      $("desk").hidden = true;
      desks = [];
      looked = false;
    }
  }, 1000);
  window.addEventListener("unload", () => clearInterval(waitForSignIn));
  // The clocks move while the desk watches.
  setInterval(() => {
    if (token() && !$("desk").hidden) show();
  }, 15000);
})();
