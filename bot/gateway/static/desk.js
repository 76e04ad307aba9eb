/* hotro support desk: plain JavaScript over the /api routes (same session cookie, CSRF header on changes).
   Everything a customer wrote goes into the page with textContent, never as HTML. */
(function () {
  "use strict";
  var CSRF = document.querySelector('meta[name="csrf-token"]').content;
  var ME = document.querySelector('meta[name="staff-name"]').content;
  // What this person's roles allow (server-side from bot/services/roles.py): only those tabs are shown.
  var ALLOWED = document.querySelector('meta[name="staff-permissions"]').content.split(",").filter(Boolean);
  function may(permission) { return ALLOWED.indexOf(permission) >= 0; }
  var EN = !/^vi\b/i.test(navigator.language || "vi") && /^en\b/i.test(navigator.language || "");
  var T = EN ? {
    queue: "Queue", tickets: "Tickets", logout: "Log out", conversations: "Conversations", waiting: "Waiting",
    with_staff: "With staff", conversation: "Conversation", claim: "Claim", release: "Return to bot",
    reply: "Reply to the customer", send: "Send", note: "Internal note (the customer never sees it)",
    add_note: "Add note", collected: "What the bot collected", history: "Customer history",
    other_conversations: "Other conversations", other_tickets: "Other tickets", status: "Status",
    priority: "Priority", category: "Category", overdue: "Overdue", code: "Code", created: "Created", due: "Due",
    description: "Description", waited: "waiting", nobody_waiting: "Nobody is waiting.", none: "None.",
    customer: "Customer", bot: "Bot", staff: "Staff", system: "System", note_by: "Note", owner: "Owner",
    channel: "Channel", open: "Open", error: "Could not reach the server: ", session: "Your session has expired.",
    assign_to: "Assign to", assign: "Assign", ack_due: "acknowledge by", resolve_due: "resolve by", contacts: "Known contacts: ", attachment: "Attachment",
    kpis: "Figures", faq: "FAQ", period: "Period", day1: "Last 24 hours", day7: "Last 7 days", day30: "Last 30 days",
    day90: "Last 90 days", by_agent: "Ratings by staff member", by_category: "Tickets by category", ratings: "Ratings",
    average: "Average", count: "Tickets", opened: "Tickets opened", ack_on_time: "Acknowledged on time",
    resolved_on_time: "Resolved on time", overdue_now: "Open and overdue now", time_to_ack: "Time to acknowledge",
    time_to_resolve: "Time to resolve", by_bot: "Resolved by the bot", handed: "Handed to a person",
    first_response: "First staff response", queue_wait: "Wait in the queue", csat: "CSAT (4–5 of 5)",
    faq_helpful: "FAQ answers found helpful", faq_unanswered: "FAQ questions with no answer", of: "of", median: "median",
    no_reply: "without a reply yet", cases: "cases", seconds: "s", nps: "NPS (recommend, 0–10)", ces: "CES (ease, 1–5)",
    answers: "answers", promoters: "promoters", detractors: "detractors", easy: "easy (4–5)",
    photo: "Customer's photo (click to open full size)", file_unavailable: "Could not load the file from Telegram (open the link for the reason)"
  } : {
    queue: "Hàng chờ", tickets: "Phiếu khiếu nại", logout: "Đăng xuất", conversations: "Hội thoại",
    waiting: "Đang chờ", with_staff: "Đang có nhân viên", conversation: "Hội thoại", claim: "Nhận hội thoại",
    release: "Trả lại cho bot", reply: "Trả lời khách", send: "Gửi", note: "Ghi chú nội bộ (khách không thấy)",
    add_note: "Thêm ghi chú", collected: "Bot đã ghi nhận", history: "Lịch sử khách hàng",
    other_conversations: "Các hội thoại khác", other_tickets: "Các phiếu khác", status: "Trạng thái",
    priority: "Ưu tiên", category: "Loại", overdue: "Quá hạn", code: "Mã", created: "Tạo lúc", due: "Hạn",
    description: "Nội dung", waited: "đã chờ", nobody_waiting: "Không có ai đang chờ.", none: "Không có.",
    customer: "Khách", bot: "Bot", staff: "Nhân viên", system: "Hệ thống", note_by: "Ghi chú", owner: "Phụ trách",
    channel: "Kênh", open: "Mở", error: "Không kết nối được máy chủ: ", session: "Phiên đăng nhập đã hết hạn.",
    assign_to: "Giao cho", assign: "Giao", ack_due: "hạn tiếp nhận", resolve_due: "hạn xử lý", contacts: "Liên hệ đã biết: ", attachment: "Tệp đính kèm",
    kpis: "Thống kê", faq: "FAQ", period: "Khoảng thời gian", day1: "24 giờ qua", day7: "7 ngày qua", day30: "30 ngày qua",
    day90: "90 ngày qua", by_agent: "Đánh giá theo nhân viên", by_category: "Phiếu theo loại", ratings: "Lượt đánh giá",
    average: "Trung bình", count: "Số phiếu", opened: "Phiếu mới", ack_on_time: "Tiếp nhận đúng hạn",
    resolved_on_time: "Xử lý đúng hạn", overdue_now: "Đang quá hạn", time_to_ack: "Thời gian tiếp nhận",
    time_to_resolve: "Thời gian xử lý", by_bot: "Bot tự giải quyết", handed: "Chuyển cho nhân viên",
    first_response: "Phản hồi đầu tiên của nhân viên", queue_wait: "Thời gian chờ trong hàng", csat: "CSAT (4–5 sao)",
    faq_helpful: "Câu trả lời FAQ hữu ích", faq_unanswered: "Câu hỏi FAQ chưa có trả lời", of: "trên", median: "trung vị",
    no_reply: "chưa được trả lời", cases: "lượt", seconds: "giây", nps: "NPS (giới thiệu, 0–10)", ces: "CES (dễ dàng, 1–5)",
    answers: "câu trả lời", promoters: "giới thiệu", detractors: "không giới thiệu", easy: "dễ (4–5)",
    photo: "Ảnh khách gửi (bấm để xem cỡ lớn)", file_unavailable: "Không tải được tệp từ Telegram (mở liên kết để xem lý do)"
  };
  var STATUSES = ["new", "acknowledged", "in_progress", "waiting_customer", "resolved", "closed"];
  var current = null;       // id of the open conversation
  var shownLines = -1;      // transcript lines on screen, so polling only scrolls when something new arrives
  var shownDetails = "";

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function when(iso) { return iso ? new Date(iso).toLocaleString(EN ? "en-GB" : "vi-VN") : ""; }
  function minutes(seconds) {
    var m = Math.floor((seconds || 0) / 60);
    return m < 60 ? m + " min" : Math.floor(m / 60) + " h " + (m % 60) + " min";
  }
  // A refresh that works again clears its own failure, never another tab's message (an FAQ save's errors).
  var failureShown = false;
  function status(text) { $("status").textContent = text || ""; failureShown = false; }

  document.querySelectorAll("[data-i18n]").forEach(function (node) {
    if (T[node.dataset.i18n]) node.textContent = T[node.dataset.i18n];
  });

  function api(method, path, body) {
    var headers = {"Accept": "application/json"};
    if (method !== "GET") { headers["X-CSRF-Token"] = CSRF; headers["Content-Type"] = "application/json"; }
    return fetch(path, {method: method, headers: headers, credentials: "same-origin",
                        body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (response) {
        if (response.status === 401) { window.location.href = "/desk/login?e=expired"; throw new Error(T.session); }
        return response.json().then(function (data) {
          if (!response.ok) {
            // The FAQ tab shows field errors (422) and conflicts (409) from the rest of the answer.
            var error = new Error(data.error || response.status);
            error.status = response.status;
            error.data = data;
            throw error;
          }
          return data;
        });
      });
  }
  function failed(error) { status(T.error + error.message); failureShown = true; }

  // -- conversation lists ----------------------------------------------------------
  function conversationItem(c, waiting) {
    var li = el("li");
    var button = el("button", {"type": "button", "class": "link", "data-id": c.id}, c.id);
    button.addEventListener("click", function () { openConversation(c.id); });
    li.appendChild(button);
    var sub = el("div", {"class": "sub"});
    if (waiting) sub.appendChild(el("span", {"class": "wait"}, T.waited + " " + minutes(c.waiting_seconds) + " · "));
    else if (c.agent) sub.appendChild(el("span", {}, c.agent + " · "));
    sub.appendChild(el("span", {}, c.channel + " · " + (c.last_message || "")));
    li.appendChild(sub);
    // desk-live.js shows who the customer is, the category, priority and deadline in place of the id.
    if (window.hotroDesk.decorateItem) window.hotroDesk.decorateItem(li, c, waiting);
    return li;
  }
  function refreshLists() {
    return Promise.all([api("GET", "/api/conversations?owner=queued"), api("GET", "/api/conversations?owner=agent")])
      .then(function (lists) {
        [["queued", lists[0], true], ["agent", lists[1], false]].forEach(function (part) {
          var ul = $(part[0]);
          clear(ul);
          if (!part[1].length) ul.appendChild(el("li", {"class": "sub"}, part[2] ? T.nobody_waiting : T.none));
          part[1].forEach(function (c) { ul.appendChild(conversationItem(c, part[2])); });
        });
        if (failureShown) status("");
        if (window.hotroDesk.onLists) window.hotroDesk.onLists(lists[0], lists[1]);
        return lists;
      }).catch(failed);
  }

  // -- one conversation --------------------------------------------------------------
  function ticketLine(t) {
    var li = el("li");
    li.appendChild(el("strong", {}, t.code + " "));
    li.appendChild(el("span", {"class": "badge " + t.priority}, t.priority));
    li.appendChild(el("span", {}, " " + t.category + " · " + t.status));
    li.appendChild(el("div", {"class": "sub"}, t.description || ""));
    li.appendChild(el("div", {"class": "sub"}, T.ack_due + " " + when(t.acknowledge_due_at) + " · " +
                                               T.resolve_due + " " + when(t.resolve_due_at)));
    li.appendChild(statusSelect(t));
    return li;
  }
  function statusSelect(t) {
    var select = el("select", {"aria-label": T.status + " " + t.code});
    STATUSES.forEach(function (s) {
      var option = el("option", {"value": s}, s);
      if (s === t.status) option.selected = true;
      select.appendChild(option);
    });
    select.addEventListener("change", function () {
      api("PATCH", "/api/tickets/" + encodeURIComponent(t.code), {status: select.value})
        .then(function () { if (current) openConversation(current, true); refreshTickets(); refreshLists(); })
        .catch(failed);
    });
    return select;
  }
  // A photo as a thumbnail that opens full size in a new tab; any other file as a link with its name, which the
  // server answers as a download (in a new tab, so that an error such as "too big" is readable).
  function attachmentLink(url, attachment) {
    var link = el("a", {"href": url, "target": "_blank", "rel": "noopener", "class": "attachment"});
    if (attachment.kind !== "photo") {
      link.textContent = "⬇ " + (attachment.file_name || T.attachment);
      return link;
    }
    var img = el("img", {"src": url, "alt": T.photo, "title": T.photo});
    img.addEventListener("error", function () { link.replaceChildren(el("span", {"class": "sub"}, T.file_unavailable)); });
    link.appendChild(img);
    return link;
  }
  function renderTranscript(lines) {
    var log = $("transcript");
    if (lines.length === shownLines) return;
    clear(log);
    lines.forEach(function (line) {
      var div = el("div", {"class": "msg " + line.author});
      var who = line.author === "note" ? T.note_by : (T[line.author] || line.author);
      div.appendChild(el("span", {"class": "who"}, who + (line.name ? " · " + line.name : "") + " · " + when(line.at)));
      div.appendChild(document.createTextNode(line.text || ""));
      if (line.attachment_url) div.appendChild(attachmentLink(line.attachment_url, line.data.attachment));
      (line.data && line.data.buttons || []).forEach(function (b) {
        div.appendChild(el("span", {"class": "badge"}, b.title));
      });
      log.appendChild(div);
    });
    shownLines = lines.length;
    log.scrollTop = log.scrollHeight;
  }
  function renderDetails(c) {
    var slots = $("slots");
    clear(slots);
    Object.keys(c.slots || {}).forEach(function (name) {
      slots.appendChild(el("dt", {}, name));
      slots.appendChild(el("dd", {}, c.slots[name]));
    });
    if (!Object.keys(c.slots || {}).length) slots.appendChild(el("dd", {}, T.none));
    var tickets = $("conv-tickets");
    clear(tickets);
    c.tickets.forEach(function (t) { tickets.appendChild(ticketLine(t)); });
    if (!c.tickets.length) tickets.appendChild(el("li", {"class": "sub"}, T.none));
    $("contacts").textContent = c.customer.contacts.length ? T.contacts + c.customer.contacts.join(", ") : "";
    var others = $("history-conversations");
    clear(others);
    c.customer.conversations.forEach(function (o) {
      others.appendChild(conversationItem({id: o.id, channel: o.channel, last_message: when(o.created_at)}, false));
    });
    if (!c.customer.conversations.length) others.appendChild(el("li", {"class": "sub"}, T.none));
    var past = $("history-tickets");
    clear(past);
    c.customer.tickets.forEach(function (t) { past.appendChild(ticketLine(t)); });
    if (!c.customer.tickets.length) past.appendChild(el("li", {"class": "sub"}, T.none));
  }
  function openConversation(id, quiet) {
    if (id !== current) shownLines = -1;
    current = id;
    return api("GET", "/api/conversations/" + encodeURIComponent(id)).then(function (c) {
      if (c.id !== current) return;
      $("conversation").hidden = false;
      $("details").hidden = false;
      $("conv-id").textContent = c.id;
      $("conv-meta").textContent = T.channel + ": " + c.channel + " · " + T.owner + ": " + (c.agent || c.owner);
      var mine = c.owner === "agent" && c.agent === ME;
      $("claim").disabled = mine;
      $("release").disabled = c.owner === "bot";
      $("reply").disabled = !mine;
      $("reply-form").querySelector("button").disabled = !mine;
      renderTranscript(c.transcript);
      // Re-draw the side panel only when it changed, so a pushed refresh never resets a select being used.
      var details = JSON.stringify([c.slots, c.tickets, c.customer]);
      if (!quiet || details !== shownDetails) { renderDetails(c); shownDetails = details; }
      if (window.hotroDesk.onConversation) window.hotroDesk.onConversation(c, mine);
    }).catch(failed);
  }
  $("claim").addEventListener("click", function () {
    api("POST", "/api/conversations/" + encodeURIComponent(current) + "/claim")
      .then(function () { return Promise.all([openConversation(current), refreshLists()]); }).catch(failed);
  });
  $("release").addEventListener("click", function () {
    api("POST", "/api/conversations/" + encodeURIComponent(current) + "/release")
      .then(function () { return Promise.all([openConversation(current), refreshLists()]); }).catch(failed);
  });
  $("assign").addEventListener("click", function () {
    var agent = $("assignee").value;
    if (!agent || !current) return;
    api("POST", "/api/conversations/" + encodeURIComponent(current) + "/claim", {agent: agent})
      .then(function () { return Promise.all([openConversation(current), refreshLists()]); }).catch(failed);
  });
  if (may("conversations")) api("GET", "/api/staff").then(function (members) {
    members.forEach(function (m) {
      if (m.name !== ME) $("assignee").appendChild(el("option", {"value": m.name}, m.display_name + " (" + m.name + ")"));
    });
    $("assign").disabled = $("assignee").disabled = !$("assignee").options.length;
  }).catch(failed);
  function sender(formId, boxId, path) {
    $(formId).addEventListener("submit", function (event) {
      event.preventDefault();
      var box = $(boxId);
      var text = box.value.trim();
      if (!text || !current) return;
      api("POST", "/api/conversations/" + encodeURIComponent(current) + path, {text: text})
        .then(function () { box.value = ""; return openConversation(current, true); }).catch(failed);
    });
  }
  sender("reply-form", "reply", "/messages");
  sender("note-form", "note", "/notes");
  $("reply").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("reply-form").requestSubmit(); }
  });

  // -- tickets -------------------------------------------------------------------------
  var statusFilter = document.querySelector('#ticket-filters select[name="status"]');
  STATUSES.forEach(function (s) { statusFilter.appendChild(el("option", {"value": s}, s)); });
  function refreshTickets() {
    var form = $("ticket-filters");
    var query = new URLSearchParams();
    ["status", "priority", "category"].forEach(function (k) { if (form.elements[k].value) query.set(k, form.elements[k].value); });
    if (form.elements.overdue.checked) query.set("overdue", "1");
    return api("GET", "/api/tickets?" + query.toString()).then(function (tickets) {
      var body = $("ticket-rows");
      clear(body);
      tickets.forEach(function (t) {
        var row = el("tr", {"class": t.overdue ? "overdue" : "", "data-code": t.code});
        row.appendChild(el("td", {}, t.code));
        row.appendChild(el("td", {}, when(t.created_at)));
        row.appendChild(el("td", {}, t.category));
        var priority = el("td");
        priority.appendChild(el("span", {"class": "badge " + t.priority}, t.priority));
        row.appendChild(priority);
        var state = el("td");
        state.appendChild(statusSelect(t));
        row.appendChild(state);
        row.appendChild(el("td", {}, (t.overdue ? "⚠ " : "") + when(t.acknowledged_at ? t.resolve_due_at : t.acknowledge_due_at)));
        row.appendChild(el("td", {"class": "desc"}, t.description));
        var link = el("td");
        var open = el("button", {"type": "button"}, T.open);
        open.addEventListener("click", function () { showView("queue"); openConversation(t.conversation); });
        link.appendChild(open);
        row.appendChild(link);
        if (window.hotroDesk.decorateTicketRow) window.hotroDesk.decorateTicketRow(row, t);
        body.appendChild(row);
      });
    }).catch(failed);
  }
  $("ticket-filters").addEventListener("change", refreshTickets);

  // -- figures (KPIs) ------------------------------------------------------------------
  function share(rate) { return rate === null || rate === undefined ? "—" : Math.round(rate * 100) + "%"; }
  // The median as a time people read ("40 giây", "12 min", "3.5 h"); how many cases it is the median of beside it.
  function span(d) {
    if (!d || !d.count) return "—";
    var m = d.median_minutes;
    return m < 1 ? Math.round(m * 60) + " " + T.seconds : m < 90 ? Math.round(m) + " min" : (m / 60).toFixed(1) + " h";
  }
  function spanDetail(d) { return d && d.count ? T.median + ", " + d.count + " " + T.cases : ""; }
  function signed(n) { return n === null || n === undefined ? "—" : (n > 0 ? "+" : "") + n; }
  function card(label, value, detail, id) {
    var box = el("div", {"class": "card", "id": "kpi-" + id});
    box.appendChild(el("span", {"class": "label"}, label));
    box.appendChild(el("strong", {}, value));
    if (detail) box.appendChild(el("span", {"class": "sub"}, detail));
    return box;
  }
  function refreshKpis() {
    var days = $("kpi-period").elements.days.value;
    return api("GET", "/api/kpis?days=" + encodeURIComponent(days) + "&lang=" + (EN ? "en" : "vi")).then(function (k) {
      var t = k.tickets, c = k.chats, s = k.satisfaction, f = k.faq, cards = $("kpi-cards");
      clear(cards);
      [
        [T.opened, String(t.opened), "", "opened"],
        [T.ack_on_time, share(t.acknowledged_on_time.rate), t.acknowledged_on_time.met + " " + T.of + " " + t.acknowledged_on_time.due, "ack"],
        [T.resolved_on_time, share(t.resolved_on_time.rate), t.resolved_on_time.met + " " + T.of + " " + t.resolved_on_time.due, "resolved"],
        [T.overdue_now, String(t.open_overdue_now), "", "overdue"],
        [T.time_to_ack, span(t.time_to_acknowledge), spanDetail(t.time_to_acknowledge), "time-ack"],
        [T.time_to_resolve, span(t.time_to_resolve), spanDetail(t.time_to_resolve), "time-resolve"],
        [T.by_bot, share(c.resolved_by_bot_rate), c.resolved_by_bot + " " + T.of + " " + c.conversations, "bot"],
        [T.handed, String(c.handed_to_person), c.handoffs_unanswered + " " + T.no_reply, "handed"],
        [T.first_response, span(c.first_response), spanDetail(c.first_response), "first-response"],
        [T.queue_wait, span(c.waiting_for_person), spanDetail(c.waiting_for_person), "queue-wait"],
        [T.csat, share(s.csat), s.ratings ? s.ratings + " " + T.ratings.toLowerCase() + ", " + T.average.toLowerCase() + " " + s.average : "", "csat"],
        [T.nps, signed(k.nps.score), k.nps.answers ? k.nps.answers + " " + T.answers + ": " + k.nps.high + " " +
          T.promoters + ", " + k.nps.low + " " + T.detractors : "", "nps"],
        [T.ces, k.ces.score === null ? "—" : k.ces.score + "/5", k.ces.answers ? k.ces.answers + " " + T.answers +
          ", " + k.ces.high + " " + T.easy : "", "ces"],
        [T.faq_helpful, share(f.helpful_rate), "👍 " + f.helpful + " · 👎 " + f.not_helpful, "faq"],
        [T.faq_unanswered, String(f.unanswered), "", "faq-unanswered"]
      ].forEach(function (c) { cards.appendChild(card(c[0], c[1], c[2], c[3])); });
      var agents = $("kpi-agents");
      clear(agents);
      Object.keys(s.by_agent).forEach(function (name) {
        var a = s.by_agent[name], row = el("tr");
        [name, a.ratings, a.average, share(a.csat)].forEach(function (v) { row.appendChild(el("td", {}, v)); });
        agents.appendChild(row);
      });
      var categories = $("kpi-categories");
      clear(categories);
      Object.keys(t.by_category).forEach(function (name) {
        var row = el("tr");
        row.appendChild(el("td", {}, k.labels.categories[name] || name));
        row.appendChild(el("td", {}, t.by_category[name]));
        categories.appendChild(row);
      });
    }).catch(failed);
  }
  $("kpi-period").addEventListener("change", refreshKpis);

  var VIEW_PERMISSION = {queue: "conversations", tickets: "tickets", kpis: "figures", faq: "faq"};
  var VIEWS = Object.keys(VIEW_PERMISSION).filter(function (v) { return may(VIEW_PERMISSION[v]); });
  function showView(name) {
    VIEWS.forEach(function (v) {
      $("view-" + v).hidden = name !== v;
      $("tab-" + v).setAttribute("aria-pressed", String(name === v));
    });
    if (name === "tickets") refreshTickets();
    if (name === "kpis") { refreshKpis(); if (window.hotroDesk.showFigures) window.hotroDesk.showFigures(); }
    if (name === "faq" && window.hotroDesk.showFaq) window.hotroDesk.showFaq();
  }
  VIEWS.forEach(function (v) {
    $("tab-" + v).hidden = false;
    $("tab-" + v).addEventListener("click", function () { showView(v); });
  });

  // Shared with desk-faq.js (the FAQ tab), which sets showFaq.
  // Shared with desk-live.js too (pushed updates, action scripts), which refreshes the lists and the open
  // conversation when the server says something happened: the desk does not poll.
  window.hotroDesk = {api: api, el: el, clear: clear, status: status, failed: failed, when: when, EN: EN,
                      showView: showView, may: may, ME: ME, refreshLists: refreshLists,
                      openConversation: openConversation, current: function () { return current; }};

  // After desk-faq.js and desk-live.js have run (scripts at the end of the body run before this event).
  document.addEventListener("DOMContentLoaded", function () {
    if (VIEWS.length) showView(VIEWS[0]);
    if (may("conversations")) refreshLists();
  });
})();
