// The console's noticeboard: publish announcements and policies, events and classes, the
// community's numbers, and start a roll-call and follow who has not answered. It shares the
// console's sign-in, its helpers (window.linliConsole) and its words (texts.board).
"use strict";
(() => {
  const { gql, t, say, token, staffRoles } = window.linliConsole;
  const $ = (id) => document.getElementById(id);

  // A mutation's answer: its object, or a UserError said in words.
  async function act(name, variables, key) {
    const result = (await gql(name, variables))[key];
    if (result && "code" in result) {
      say(result.message);
      return null;
    }
    return result;
  }

  const community = () => $("board-community").value;
  const isoOf = (local) => (local ? new Date(local).toISOString() : null);

  function options(select, values) {
    select.replaceChildren(
      ...values.map(([value, label]) => {
        const o = document.createElement("option");
        o.value = value;
        o.textContent = label;
        return o;
      })
    );
  }

  function item(className, title, lines, buttonLabel, action) {
    const el = document.createElement("article");
    el.className = className;
    const h = document.createElement("h4");
    h.textContent = title;
    el.append(h, ...lines.filter(Boolean).map((line) => Object.assign(document.createElement("p"), { textContent: line })));
    if (buttonLabel) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = buttonLabel;
      b.addEventListener("click", action);
      el.append(b);
    }
    return el;
  }

  async function showNotices() {
    const notices = (await gql("StaffAnnouncements", { communityId: community() })).staffAnnouncements;
    $("notice-list").replaceChildren(
      ...notices.map((n) =>
        item("notice", `${t(`board.kinds.${n.kind}`)} · ${n.title}`, [n.plainText, n.minAge ? t("board.for_age", { age: n.minAge }) : ""], t("board.withdraw"), async () => {
          if (await act("WithdrawAnnouncement", { id: n.id }, "withdrawAnnouncement")) await showNotices();
        })
      )
    );
  }

  async function showRollCalls() {
    const calls = (await gql("OpenRollCalls", { communityId: community() })).openRollCalls;
    $("roll-call-list").replaceChildren(
      ...calls.map((c) => {
        const homes = c.notAnswered.map(
          (h) => `${h.alone ? t("board.alone") + " " : ""}${h.names.join("、")} ${h.oldestAge ?? ""} · ${h.address} · ${h.phones.join(" ")}`
        );
        const el = item("roll-call", `${c.reason} · ${t("board.answered", { answered: c.answered, asked: c.asked })}`, homes);
        el.dataset.id = c.id;
        return el;
      })
    );
  }

  async function showContacts() {
    const contacts = (await gql("CommunityContacts", { communityId: community() })).communityContacts;
    $("contacts-lines").value = contacts.map((c) => [c.kind, c.name, c.phone, c.hours].join(" | ")).join("\n");
  }

  async function showAll() {
    try {
      await Promise.all([showNotices(), showRollCalls(), showContacts()]);
    } catch (error) {
      say(error.message);
    }
  }

  async function start() {
    if (!token()) return;
    if (!(await staffRoles($("board-community"))).length) return;
    options($("notice-kind"), ["ANNOUNCEMENT", "POLICY"].map((k) => [k, t(`board.kinds.${k}`)]));
    options($("event-kind"), ["EVENT", "CLASS"].map((k) => [k, t(`board.kinds.${k}`)]));
    $("board").hidden = false;
    await showAll();
  }

  $("board-community").addEventListener("change", showAll);

  $("roll-call-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const started = await act(
      "StartRollCall",
      { communityId: community(), reason: $("roll-call-reason").value, minutes: Number($("roll-call-minutes").value) },
      "startRollCall"
    );
    if (started) {
      say(t("board.roll_call_started", { asked: started.asked }));
      await showRollCalls();
    }
  });

  $("publish-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const minAge = $("notice-min-age").value;
    const input = {
      communityId: community(),
      kind: $("notice-kind").value,
      title: $("notice-title").value,
      plainText: $("notice-plain").value,
      body: $("notice-body").value,
      audience: minAge ? "ELDERS" : "COMMUNITY",
      minAge: minAge ? Number(minAge) : null,
      until: isoOf($("notice-until").value),
    };
    if (await act("PublishAnnouncement", { input }, "publishAnnouncement")) {
      say(t("board.published"));
      $("publish-form").reset();
      await showNotices();
    }
  });

  $("event-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const starts = new Date($("event-starts").value);
    const input = {
      communityId: community(),
      kind: $("event-kind").value,
      title: $("event-title").value,
      plainText: $("event-plain").value,
      place: $("event-place").value,
      startsAt: starts.toISOString(),
      endsAt: new Date(starts.getTime() + Number($("event-hours").value) * 3600000).toISOString(),
      capacity: Number($("event-capacity").value),
    };
    if (await act("CreateCommunityEvent", { input }, "createCommunityEvent")) {
      say(t("board.event_created"));
      $("event-form").reset();
    }
  });

  $("contacts-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const contacts = $("contacts-lines")
      .value.split("\n")
      .map((line) => line.split("|").map((part) => part.trim()))
      .filter((parts) => parts.length >= 3 && parts[1])
      .map(([kind, name, phone, hours]) => ({ kind, name, phone, hours: hours || "" }));
    if (await act("SetCommunityContacts", { communityId: community(), contacts }, "setCommunityContacts")) {
      say(t("board.contacts_saved"));
      await showContacts();
    }
  });

  // Signing in happens in console.js: look once the token is there.
  const waitForSignIn = setInterval(() => {
    if (token() && $("board").hidden) start();
    if (!token()) $("board").hidden = true;
  }, 1000);
  window.addEventListener("unload", () => clearInterval(waitForSignIn));
  // Who has answered a roll-call moves while staff watch.
  setInterval(() => {
    if (token() && !$("board").hidden) showRollCalls().catch(() => {});
  }, 15000);
})();
