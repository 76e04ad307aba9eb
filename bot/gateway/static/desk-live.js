/* hotro desk, live side: updates pushed by the server (GET /api/events, server-sent events) instead of polling;
   notifications (title badge, sound, browser notification, in-page notice); a queue that reads like people;
   the action script of the open conversation's ticket, and saved replies offered when "/" is typed.
   Everything customers wrote goes into the page with textContent (D.el), never as HTML. */
(function () {
  "use strict";
  var D = window.hotroDesk;
  if (!D || !D.may("conversations")) return;
  var el = D.el, clear = D.clear, EN = D.EN, ME = D.ME;
  var LANG = EN ? "en" : "vi";
  var T = EN ? {
    web: "Website", telegram: "Telegram", rest: "API", customer: "Customer", waiting: "waiting",
    left: "left", overdue: "overdue by", ack: "acknowledge", resolve: "resolve", script: "Action script",
    replies: "Saved replies (type / in the reply box)", by: "by", assigned: "Assigned to you",
    wrote: "New message", queued: "New chat waiting", sound_on: "🔔 Sound on", sound_off: "🔕 Sound off",
    allow: "Allow browser notifications", no_replies: "No saved replies: this chat has no open ticket.",
    missing: "fill in before sending: ", dismiss: "Close", open: "Open", steps: "steps done"
  } : {
    web: "Website", telegram: "Telegram", rest: "API", customer: "Khách", waiting: "đã chờ",
    left: "còn", overdue: "quá hạn", ack: "tiếp nhận", resolve: "xử lý", script: "Kịch bản xử lý",
    replies: "Câu trả lời mẫu (gõ / trong ô trả lời)", by: "bởi", assigned: "Hội thoại mới giao cho bạn",
    wrote: "Tin nhắn mới", queued: "Có khách mới đang chờ", sound_on: "🔔 Âm thanh: bật", sound_off: "🔕 Âm thanh: tắt",
    allow: "Bật thông báo trình duyệt", no_replies: "Chưa có câu trả lời mẫu: hội thoại này chưa có phiếu đang mở.",
    missing: "cần điền trước khi gửi: ", dismiss: "Đóng", open: "Mở", steps: "bước đã làm"
  };
  var ICONS = {web: "🌐", telegram: "✈️", rest: "⚙️"};
  var PRIORITY = EN ? {urgent: "urgent", high: "high", normal: "normal"} : {urgent: "khẩn", high: "cao", normal: "thường"};
  function $(id) { return document.getElementById(id); }

  // -- a queue of people ----------------------------------------------------------------
  function duration(seconds) {
    var m = Math.max(0, Math.floor(seconds / 60));
    if (m < 60) return m + " min";
    if (m < 48 * 60) return Math.floor(m / 60) + " h " + (m % 60) + " min";
    return Math.floor(m / 1440) + (EN ? " d " : " ngày ") + Math.floor((m % 1440) / 60) + " h";
  }
  function who(c) {
    if (c.customer_name) return c.customer_name;
    if (c.customer_phone) return c.customer_phone;
    // Never the raw id as the label: the channel and the id's last characters tell two strangers apart.
    return T.customer + " " + (T[c.channel] || c.channel || "") + " #" + String(c.id).slice(-4);
  }
  function slaClass(secondsLeft) {
    if (secondsLeft < 0) return "sla overdue";
    if (secondsLeft < 3600) return "sla soon";
    if (secondsLeft < 4 * 3600) return "sla near";
    return "sla ok";
  }
  var fetchedAt = Date.now();  // seconds_left and waiting_seconds were true then; the clock below moves them on
  function timers(li) {
    var since = (Date.now() - fetchedAt) / 1000;
    li.querySelectorAll("[data-wait]").forEach(function (node) {
      node.textContent = T.waiting + " " + duration(Number(node.dataset.wait) + since);
    });
    li.querySelectorAll("[data-left]").forEach(function (node) {
      var left = Number(node.dataset.left) - since;
      node.className = slaClass(left);
      node.textContent = (node.dataset.kind === "acknowledge" ? T.ack : T.resolve) + ": " +
        (left < 0 ? T.overdue + " " + duration(-left) : T.left + " " + duration(left));
    });
  }
  D.decorateItem = function (li, c, waiting) {
    if (!c.owner) return;  // another conversation of the customer (history): the id and date are what matter
    var button = li.querySelector("button.link");
    clear(button);
    button.appendChild(el("span", {"class": "channel", "title": T[c.channel] || c.channel, "aria-label": T[c.channel] || c.channel},
                          ICONS[c.channel] || "💬"));
    button.appendChild(el("span", {"class": "who"}, " " + who(c)));
    if (unread[c.id]) button.appendChild(el("span", {"class": "unread", "aria-label": T.wrote}, String(unread[c.id])));
    var facts = el("div", {"class": "facts"});
    if (c.category_label) facts.appendChild(el("span", {"class": "category"}, c.category_label[LANG]));
    if (c.priority) facts.appendChild(el("span", {"class": "badge " + c.priority}, PRIORITY[c.priority] || c.priority));
    if (waiting && c.waiting_seconds !== null && c.waiting_seconds !== undefined) {
      facts.appendChild(el("span", {"class": "wait", "data-wait": c.waiting_seconds}));
    }
    if (c.sla) facts.appendChild(el("span", {"data-left": c.sla.seconds_left, "data-kind": c.sla.kind}));
    li.insertBefore(facts, button.nextSibling);
    var sub = li.querySelector(".sub");
    if (sub) {
      clear(sub);
      sub.appendChild(el("span", {}, (c.agent && !waiting ? c.agent + " · " : "") + (c.last_message || "")));
    }
    timers(li);
  };
  setInterval(function () { document.querySelectorAll("#queued li, #agent li").forEach(timers); }, 30000);

  // -- counts, title badge, sound, notifications ----------------------------------------
  var unread = {};      // conversation id -> customer messages since this person last looked at it
  var lists = {queued: [], agent: []};
  var baseTitle = document.title;
  function mineIds() { return lists.agent.filter(function (c) { return c.agent === ME; }).map(function (c) { return c.id; }); }
  function countBadge(button, n) {
    var badge = button.querySelector(".count");
    if (!badge) { badge = el("span", {"class": "count"}); button.appendChild(badge); }
    badge.textContent = n ? String(n) : "";
    badge.hidden = !n;
  }
  var openTickets = 0;
  function showCounts() {
    var waiting = lists.queued.length;
    var mine = mineIds();
    var unreadMine = mine.filter(function (id) { return unread[id]; }).length;
    countBadge($("tab-queue"), waiting + unreadMine);
    if (D.may("tickets")) countBadge($("tab-tickets"), openTickets);
    var headings = document.querySelectorAll("#view-queue h3");
    if (headings[0]) countBadge(headings[0], waiting);
    if (headings[1]) countBadge(headings[1], lists.agent.length);
    var attention = waiting + unreadMine;
    document.title = (attention ? "(" + attention + ") " : "") + baseTitle;
  }
  function refreshTicketCount() {
    if (!D.may("tickets")) return Promise.resolve();
    return D.api("GET", "/api/tickets?status=new").then(function (tickets) { openTickets = tickets.length; showCounts(); })
      .catch(function () {});
  }
  D.onLists = function (queued, agent) {
    lists = {queued: queued, agent: agent};
    fetchedAt = Date.now();
    showCounts();
  };

  var soundOn = localStorage.getItem("hotro-desk-sound") !== "off";
  var audio = null;
  function beep() {
    if (!soundOn) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + 0.4);
    } catch (e) { /* no audio device: the badge and the notice still show */ }
  }
  var header = document.querySelector("header");
  var soundButton = el("button", {"type": "button", "id": "live-sound", "aria-pressed": String(soundOn)},
                       soundOn ? T.sound_on : T.sound_off);
  soundButton.addEventListener("click", function () {
    soundOn = !soundOn;
    localStorage.setItem("hotro-desk-sound", soundOn ? "on" : "off");
    soundButton.textContent = soundOn ? T.sound_on : T.sound_off;
    soundButton.setAttribute("aria-pressed", String(soundOn));
  });
  header.insertBefore(soundButton, header.querySelector(".me"));
  if (window.Notification && Notification.permission === "default") {
    var allow = el("button", {"type": "button", "id": "live-allow"}, T.allow);
    allow.addEventListener("click", function () {
      Notification.requestPermission().then(function () { allow.hidden = true; });
    });
    header.insertBefore(allow, header.querySelector(".me"));
  }
  var notices = el("div", {"id": "live-notices", "role": "status", "aria-live": "polite"});
  document.body.appendChild(notices);

  function notify(kind, c) {
    var title = T[kind], body = who(c) + (c.last_message ? ": " + c.last_message.slice(0, 140) : "");
    // One notice per conversation and kind: the same news can arrive twice (a colleague assigns a chat
    // while the bot is still answering in it: an "owner" event, then a "handoff"). It is brought up to
    // date in place, without a second sound.
    var shown = notices.querySelector('.notice.' + kind + '[data-conversation="' + CSS.escape(c.id) + '"]');
    if (shown) shown.remove();
    var notice = el("div", {"class": "notice " + kind, "data-conversation": c.id});
    notice.appendChild(el("strong", {}, title));
    notice.appendChild(el("span", {}, " " + body));
    var open = el("button", {"type": "button"}, T.open);
    open.addEventListener("click", function () { notice.remove(); D.showView("queue"); openAndRead(c.id); });
    var close = el("button", {"type": "button", "class": "secondary", "aria-label": T.dismiss}, "×");
    close.addEventListener("click", function () { notice.remove(); });
    notice.appendChild(open);
    notice.appendChild(close);
    notices.appendChild(notice);
    while (notices.children.length > 4) notices.removeChild(notices.firstChild);
    setTimeout(function () { notice.remove(); }, 20000);
    if (shown) return;
    beep();
    if (window.Notification && Notification.permission === "granted" && document.hidden) {
      try {
        var n = new Notification(title, {body: body, tag: "hotro-" + c.id});
        n.onclick = function () { window.focus(); D.showView("queue"); openAndRead(c.id); n.close(); };
      } catch (e) { /* some browsers only notify from a service worker: the page's notice is there */ }
    }
  }
  function looking(id) { return D.current() === id && !$("view-queue").hidden && !document.hidden; }
  function openAndRead(id) { delete unread[id]; D.openConversation(id); showCounts(); }
  document.addEventListener("visibilitychange", function () {
    var id = D.current();
    if (!document.hidden && id && unread[id] && !$("view-queue").hidden) { delete unread[id]; D.refreshLists(); }
  });
  // Clicking a conversation in a list reads it.
  $("view-queue").addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.link[data-id]");
    if (button && unread[button.dataset.id]) { delete unread[button.dataset.id]; showCounts(); }
  }, true);

  // -- pushed events --------------------------------------------------------------------
  function find(id) {
    return lists.queued.concat(lists.agent).filter(function (c) { return c.id === id; })[0];
  }
  // A burst of events (a customer typing fast, a colleague assigning ten chats) reads the lists once more, not ten times.
  var reading = null, readAgain = false;
  function refreshSoon() {
    if (reading) { readAgain = true; return reading; }
    reading = Promise.resolve(D.refreshLists()).then(function () {
      reading = null;
      if (readAgain) { readAgain = false; return refreshSoon(); }
    });
    return reading;
  }
  function handle(event) {
    var id = event.conversation;
    var refreshed = refreshSoon();
    if (D.current() === id && !$("view-queue").hidden) D.openConversation(id, true);
    if (event.type === "handoff") refreshTicketCount();  // a complaint handed to a person usually brings a ticket
    refreshed.then(function () {
      var c = find(id);
      if (!c) return;
      if (event.type === "customer_message" && c.owner === "agent" && c.agent === ME && !looking(id)) {
        unread[id] = (unread[id] || 0) + 1;
        refreshSoon();  // draws the unread mark
        notify("wrote", c);
      } else if ((event.type === "owner" && event.agent === ME && event.by !== ME) ||
                 (event.type === "handoff" && c.owner === "agent" && c.agent === ME)) {
        notify("assigned", c);
      } else if (event.type === "handoff" && c.owner === "queued") {
        notify("queued", c);
      }
      showCounts();
    });
  }
  var source = null;
  function connect() {
    source = new EventSource("/api/events");
    source.addEventListener("ready", function () {
      // (Re)connected: whatever happened while the stream was down is read from the lists.
      D.refreshLists();
      refreshTicketCount();
      if (D.current()) D.openConversation(D.current(), true);
    });
    source.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (event.type === "resync") { refreshSoon(); refreshTicketCount(); return; }
      handle(event);
    };
    source.onerror = function () {
      if (source.readyState !== EventSource.CLOSED) return;  // the browser reconnects by itself
      // Refused (the session ended?): /api/me sends the person to the login page if so; else try again.
      D.api("GET", "/api/me").then(function () { setTimeout(connect, 5000); }).catch(function () {});
    };
  }
  connect();
  window.addEventListener("pagehide", function () { if (source) source.close(); });

  // -- the action script beside the conversation ------------------------------------------
  var panel = el("section", {"id": "script-panel", "aria-labelledby": "h-script"});
  panel.hidden = true;
  var details = $("details");
  details.insertBefore(panel, details.firstChild);
  var script = null, shownScript = "";
  function openTicket(c) {
    var open = c.tickets.filter(function (t) { return t.status !== "resolved" && t.status !== "closed"; });
    return open[0] || c.tickets[0];
  }
  function loadScript(code) {
    return D.api("GET", "/api/tickets/" + encodeURIComponent(code) + "/script").then(function (s) {
      script = s;
      var shown = JSON.stringify(s);
      if (shown !== shownScript) { renderScript(s); shownScript = shown; }
    }).catch(D.failed);
  }
  function renderScript(s) {
    clear(panel);
    panel.hidden = false;
    panel.appendChild(el("h2", {"id": "h-script"}, T.script + " · " + s.category_label[LANG] + " · " + s.ticket));
    var steps = el("ul", {"class": "list steps"});
    s.steps.forEach(function (step) {
      var li = el("li", {"data-step": step.id});
      var box = el("input", {"type": "checkbox", "id": "step-" + step.id});
      box.checked = step.done;
      box.addEventListener("change", function () {
        box.disabled = true;
        D.api("PUT", "/api/tickets/" + encodeURIComponent(s.ticket) + "/steps/" + encodeURIComponent(step.id),
              {done: box.checked})
          .then(function () { return loadScript(s.ticket); })
          .catch(function (error) { box.checked = !box.checked; D.failed(error); })
          .then(function () { box.disabled = false; });
      });
      var label = el("label", {"for": "step-" + step.id}, step[LANG]);
      li.appendChild(box);
      li.appendChild(label);
      if (step.by) li.appendChild(el("div", {"class": "sub"}, (step.done ? "✓ " : "✗ ") + T.by + " " + step.by + " · " + D.when(step.at)));
      steps.appendChild(li);
    });
    panel.appendChild(steps);
    panel.appendChild(el("h3", {}, T.replies));
    var replies = el("ul", {"class": "list replies"});
    savedReplies(s).forEach(function (r) {
      var li = el("li");
      var use = el("button", {"type": "button", "class": "link"}, r.title + " (" + r.language + ")");
      use.addEventListener("click", function () { insertReply(r, false); });
      li.appendChild(use);
      li.appendChild(el("div", {"class": "sub"}, r.text));
      replies.appendChild(li);
    });
    panel.appendChild(replies);
  }
  // The ticket's language first: that is the language the customer wrote in.
  function savedReplies(s) {
    if (!s) return [];
    var order = [s.language, s.language === "vi" ? "en" : "vi"], all = [];
    order.forEach(function (language) {
      s.replies.forEach(function (r) {
        all.push({id: r.id, title: r.title, language: language, text: r[language].text, missing: r[language].missing});
      });
    });
    return all;
  }
  D.onConversation = function (c) {
    var ticket = D.may("tickets") && openTicket(c);
    if (!ticket) { script = null; shownScript = ""; panel.hidden = true; return; }
    if (!script || script.ticket !== ticket.code) shownScript = "";
    loadScript(ticket.code);
  };

  // The tickets tab: how many steps of its script each ticket has had ticked.
  D.decorateTicketRow = function (row, t) {
    if (!t.steps) return;
    var cell = row.children[4];
    cell.appendChild(el("div", {"class": "sub steps-done", "title": T.script},
                        "✓ " + t.steps.done + "/" + t.steps.total + " " + T.steps));
  };

  // -- "/" in the reply box offers the saved replies -----------------------------------------
  var reply = $("reply");
  var picker = el("ul", {"id": "reply-picker", "class": "list picker", "role": "listbox", "aria-label": T.replies});
  picker.hidden = true;
  reply.parentNode.insertBefore(picker, reply.nextSibling);
  var hint = el("p", {"id": "reply-hint", "class": "warning", "role": "status"});
  reply.parentNode.insertBefore(hint, picker.nextSibling);
  var choices = [], chosen = 0;
  function query() {
    var m = /^\/(\S*)$/.exec(reply.value);
    return m ? m[1].toLowerCase() : null;
  }
  function showPicker() {
    var q = query();
    if (q === null) { picker.hidden = true; return; }
    choices = savedReplies(script).filter(function (r) {
      return !q || (r.id + " " + r.title + " " + r.language).toLowerCase().indexOf(q) >= 0;
    });
    clear(picker);
    if (!choices.length) {
      picker.appendChild(el("li", {"class": "sub"}, script ? "—" : T.no_replies));
    }
    chosen = Math.min(chosen, Math.max(0, choices.length - 1));
    choices.forEach(function (r, i) {
      var li = el("li", {"role": "option", "id": "reply-choice-" + i, "aria-selected": String(i === chosen)});
      li.appendChild(el("strong", {}, r.title + " (" + r.language + ")"));
      li.appendChild(el("div", {"class": "sub"}, r.text));
      li.addEventListener("mousedown", function (event) { event.preventDefault(); insertReply(r, true); });
      picker.appendChild(li);
    });
    picker.hidden = false;
  }
  function insertReply(r, replacing) {
    reply.value = replacing || !reply.value.trim() ? r.text : reply.value + "\n" + r.text;
    picker.hidden = true;
    hint.textContent = r.missing.length ? T.missing + r.missing.map(function (m) { return "{" + m + "}"; }).join(", ") : "";
    reply.focus();
  }
  reply.addEventListener("input", function () { chosen = 0; showPicker(); if (!reply.value) hint.textContent = ""; });
  // On the form, in the capture phase: before desk.js's Enter-sends handler on the box itself.
  $("reply-form").addEventListener("keydown", function (event) {
    if (event.target !== reply || picker.hidden || !choices.length) {
      if (event.key === "Escape") picker.hidden = true;
      return;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      chosen = (chosen + (event.key === "ArrowDown" ? 1 : choices.length - 1)) % choices.length;
      showPicker();
    } else if (event.key === "Enter" || event.key === "Tab") {
      insertReply(choices[chosen], true);
    } else if (event.key === "Escape") {
      picker.hidden = true;
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);
  reply.addEventListener("blur", function () { setTimeout(function () { picker.hidden = true; }, 150); });
})();
