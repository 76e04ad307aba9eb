/* hotro desk: the staff tab (admins) and each person's availability (agents).
   Staff tab: add a person, set their skills (complaint categories, languages, channels), capacity (chats at once)
   and roles, disable or enable them, set a new password. Availability: online takes new chats from routing,
   away keeps one's chats and takes no new ones, offline. Plain JavaScript over /api/staff and /api/me;
   this file builds its own tab and view so that desk.html and desk.js only load it. */
(function () {
  "use strict";
  var D = window.hotroDesk;
  if (!D) return;
  var api = D.api, el = D.el, clear = D.clear;
  var ALLOWED = document.querySelector('meta[name="staff-permissions"]').content.split(",").filter(Boolean);
  function may(permission) { return ALLOWED.indexOf(permission) >= 0; }
  var T = D.EN ? {
    staff_tab: "Staff", availability: "My status", online: "Online (takes new chats)", away: "Away (no new chats)",
    offline: "Offline", people: "Staff members", add: "+ Add a person", name: "Login name (lowercase, no spaces)",
    display_name: "Name customers see", password: "Password (at least 10 characters)", roles: "Roles",
    agent: "agent (chats, tickets)", editor: "editor (FAQ)", admin: "admin (everything, staff)",
    categories: "Complaint categories (none ticked: any)", languages: "Languages (none ticked: any)",
    channels: "Channels (none ticked: any)", capacity: "Chats at once", save: "Save", disable: "Disable account",
    enable: "Enable account", new_password: "New password", reset: "Set new password", edit: "Edit",
    editing: "Editing", adding: "New staff member", any: "any", chats: "chats at once", disabled: "disabled",
    saved: "Saved.", added: "Added: they can log in now.", password_set: "New password set; their desk sessions ended.",
    disabled_done: "Disabled: their sessions ended and their chats went back to the queue.", enabled_done: "Enabled.",
    state_online: "online", state_away: "away", state_offline: "offline", status_saved: "Status: "
  } : {
    staff_tab: "Nhân viên", availability: "Trạng thái của tôi", online: "Trực tuyến (nhận chat mới)",
    away: "Tạm vắng (không nhận chat mới)", offline: "Ngoại tuyến", people: "Nhân viên", add: "+ Thêm người",
    name: "Tên đăng nhập (chữ thường, không dấu cách)", display_name: "Tên khách nhìn thấy",
    password: "Mật khẩu (ít nhất 10 ký tự)", roles: "Vai trò", agent: "agent (chat, phiếu)",
    editor: "editor (FAQ)", admin: "admin (tất cả, nhân viên)",
    categories: "Loại khiếu nại (không chọn: mọi loại)", languages: "Ngôn ngữ (không chọn: mọi ngôn ngữ)",
    channels: "Kênh (không chọn: mọi kênh)", capacity: "Số chat cùng lúc", save: "Lưu", disable: "Khoá tài khoản",
    enable: "Mở khoá tài khoản", new_password: "Mật khẩu mới", reset: "Đặt mật khẩu mới", edit: "Sửa",
    editing: "Sửa", adding: "Nhân viên mới", any: "mọi", chats: "chat cùng lúc", disabled: "đã khoá",
    saved: "Đã lưu.", added: "Đã thêm: người này đăng nhập được ngay.",
    password_set: "Đã đặt mật khẩu mới; các phiên đăng nhập của họ đã kết thúc.",
    disabled_done: "Đã khoá: phiên đăng nhập kết thúc, các chat của họ trở lại hàng chờ.", enabled_done: "Đã mở khoá.",
    state_online: "trực tuyến", state_away: "tạm vắng", state_offline: "ngoại tuyến", status_saved: "Trạng thái: "
  };
  function $(id) { return document.getElementById(id); }
  function say(text) { D.status(text); }

  // -- my availability (anyone who takes chats) -------------------------------------------------
  if (may("conversations")) {
    var me = document.querySelector("header .me");
    var label = el("label", {"for": "my-availability", "class": "availability"}, T.availability + " ");
    var select = el("select", {"id": "my-availability"});
    ["online", "away", "offline"].forEach(function (a) { select.appendChild(el("option", {"value": a}, T[a])); });
    label.appendChild(select);
    me.parentNode.insertBefore(label, me.nextSibling);
    var showMine = function (account) { select.value = account.chosen_availability; };
    select.addEventListener("change", function () {
      api("PUT", "/api/me/availability", {availability: select.value})
        .then(function (account) { showMine(account); say(T.status_saved + T["state_" + account.chosen_availability]); })
        .catch(D.failed);
    });
    // Being at the desk is what keeps a person online for routing, whatever else the page does.
    var heartbeat = function () { if (!document.hidden) api("GET", "/api/me/account").then(showMine).catch(function () {}); };
    heartbeat();
    setInterval(heartbeat, 60000);
  }

  if (!may("accounts")) return;

  // -- the staff tab (admins) -------------------------------------------------------------------
  var tab = el("button", {"type": "button", "id": "tab-staff", "aria-pressed": "false"}, T.staff_tab);
  document.querySelector("header nav").appendChild(tab);
  var view = el("div", {"id": "view-staff", "class": "columns faq"});
  view.hidden = true;
  document.querySelector("script[src='/desk/desk.js']").insertAdjacentElement("beforebegin", view);

  var listSection = el("section", {"aria-labelledby": "h-staff-list"});
  listSection.appendChild(el("h2", {"id": "h-staff-list"}, T.people));
  var addButton = el("button", {"type": "button", "id": "staff-add"}, T.add);
  listSection.appendChild(addButton);
  var list = el("ul", {"id": "staff-list", "class": "list"});
  listSection.appendChild(list);
  view.appendChild(listSection);

  var editor = el("section", {"id": "staff-editor", "aria-labelledby": "h-staff-edit"});
  editor.hidden = true;
  var heading = el("h2", {"id": "h-staff-edit"});
  editor.appendChild(heading);
  var form = el("form", {"id": "staff-form", "class": "faq-form", "novalidate": ""});
  editor.appendChild(form);
  view.appendChild(editor);

  var options = null;   // skill values and labels, from /api/staff/skills
  var editing = null;   // the account being edited, or null when adding
  var fields = {};

  function field(key, input) {
    var id = "staff-" + key.replace(/_/g, "-");
    input.setAttribute("id", id);
    form.appendChild(el("label", {"for": id}, T[key]));
    form.appendChild(input);
    fields[key] = input;
    return input;
  }
  function checkboxes(key, items) {
    var set = el("fieldset", {"id": "staff-" + key});
    set.appendChild(el("legend", {}, T[key]));
    items.forEach(function (item) {
      var box = el("input", {"type": "checkbox", "value": item.code, "name": key});
      var line = el("label");
      line.appendChild(box);
      line.appendChild(document.createTextNode(" " + item.label));
      set.appendChild(line);
    });
    form.appendChild(set);
    fields[key] = set;
  }
  function ticked(key) {
    return Array.prototype.filter.call(fields[key].querySelectorAll("input"), function (b) { return b.checked; })
      .map(function (b) { return b.value; });
  }
  function tick(key, values) {
    fields[key].querySelectorAll("input").forEach(function (b) { b.checked = values.indexOf(b.value) >= 0; });
  }

  function buildForm() {
    field("name", el("input", {"maxlength": "50", "autocomplete": "off"}));
    field("display_name", el("input", {"maxlength": "200"}));
    field("password", el("input", {"type": "password", "maxlength": "200", "autocomplete": "new-password"}));
    checkboxes("roles", ["agent", "editor", "admin"].map(function (r) { return {code: r, label: T[r]}; }));
    checkboxes("categories", options.categories);
    checkboxes("languages", options.languages);
    checkboxes("channels", options.channels);
    field("capacity", el("input", {"type": "number", "min": "1", "max": "50", "step": "1"}));
    form.appendChild(el("p", {"class": "field-error", "role": "alert", "id": "staff-error"}));
    var actions = el("div", {"class": "actions"});
    actions.appendChild(el("button", {"type": "submit", "id": "staff-save"}, T.save));
    var toggle = el("button", {"type": "button", "id": "staff-toggle", "class": "danger"});
    actions.appendChild(toggle);
    form.appendChild(actions);
    var reset = el("div", {"id": "staff-reset", "class": "actions"});
    var resetLabel = el("label", {"for": "staff-new-password"}, T.new_password + " ");
    var resetInput = el("input", {"type": "password", "id": "staff-new-password", "autocomplete": "new-password"});
    resetLabel.appendChild(resetInput);
    reset.appendChild(resetLabel);
    var resetButton = el("button", {"type": "button", "id": "staff-reset-button"}, T.reset);
    reset.appendChild(resetButton);
    editor.appendChild(reset);

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      $("staff-error").textContent = "";
      var body = {
        display_name: fields.display_name.value, roles: ticked("roles"), capacity: Number(fields.capacity.value),
        skills: {categories: ticked("categories"), languages: ticked("languages"), channels: ticked("channels")}
      };
      var done;
      if (editing) {
        done = api("PATCH", "/api/staff/accounts/" + encodeURIComponent(editing.name), body)
          .then(function (account) { say(T.saved); return account; });
      } else {
        body.name = fields.name.value.trim();
        body.password = fields.password.value;
        done = api("POST", "/api/staff/accounts", body).then(function (account) { say(T.added); return account; });
      }
      done.then(function (account) { open(account); return refresh(); })
        .catch(function (error) { $("staff-error").textContent = error.message; });
    });
    toggle.addEventListener("click", function () {
      if (!editing) return;
      var disabling = !editing.disabled;
      api("PATCH", "/api/staff/accounts/" + encodeURIComponent(editing.name), {disabled: disabling})
        .then(function (account) { say(disabling ? T.disabled_done : T.enabled_done); open(account); return refresh(); })
        .catch(function (error) { $("staff-error").textContent = error.message; });
    });
    resetButton.addEventListener("click", function () {
      if (!editing) return;
      api("POST", "/api/staff/accounts/" + encodeURIComponent(editing.name) + "/password", {password: resetInput.value})
        .then(function () { resetInput.value = ""; say(T.password_set); })
        .catch(function (error) { $("staff-error").textContent = error.message; });
    });
  }

  function open(account) {
    editing = account;
    editor.hidden = false;
    $("staff-error").textContent = "";
    heading.textContent = account ? T.editing + " " + account.name : T.adding;
    fields.name.value = account ? account.name : "";
    fields.name.disabled = !!account;
    fields.password.value = "";
    fields.password.hidden = !!account;
    form.querySelector('label[for="staff-password"]').hidden = !!account;
    fields.display_name.value = account ? account.display_name : "";
    tick("roles", account ? account.roles : ["agent"]);
    tick("categories", account ? account.skills.categories : []);
    tick("languages", account ? account.skills.languages : []);
    tick("channels", account ? account.skills.channels : []);
    fields.capacity.value = account ? account.capacity : 3;
    $("staff-toggle").hidden = !account;
    $("staff-toggle").textContent = account && account.disabled ? T.enable : T.disable;
    $("staff-reset").hidden = !account;
  }

  function skillsText(skills) {  // labels, not codes: "Hàng bị hư hỏng, vỡ, lỗi", not "damaged"
    return ["categories", "languages", "channels"].map(function (k) {
      var label = function (code) {
        var known = options[k].filter(function (o) { return o.code === code; })[0];
        return known ? known.label : code;
      };
      return skills[k].length ? skills[k].map(label).join(", ") : T.any;
    }).join(" · ");
  }
  function refresh() {
    return api("GET", "/api/staff/accounts").then(function (accounts) {
      clear(list);
      accounts.forEach(function (a) {
        var li = el("li", {"data-name": a.name});
        var button = el("button", {"type": "button", "class": "link"}, a.display_name + " (" + a.name + ")");
        button.addEventListener("click", function () { open(a); });
        li.appendChild(button);
        var sub = el("div", {"class": "sub"});
        sub.appendChild(el("span", {"class": "badge"}, a.disabled ? T.disabled : T["state_" + a.availability]));
        sub.appendChild(document.createTextNode(" " + a.roles.join(", ") + " · " + skillsText(a.skills) + " · " +
                                                a.capacity + " " + T.chats));
        li.appendChild(sub);
        list.appendChild(li);
        if (editing && editing.name === a.name) editing = a;
      });
    }).catch(D.failed);
  }

  function show() {
    document.querySelectorAll("header nav button").forEach(function (b) { b.setAttribute("aria-pressed", String(b === tab)); });
    document.querySelectorAll("body > div[id^='view-']").forEach(function (v) { v.hidden = v !== view; });
    var ready = options ? Promise.resolve() : api("GET", "/api/staff/skills?lang=" + (D.EN ? "en" : "vi"))
      .then(function (o) { options = o; buildForm(); });
    ready.then(refresh).catch(D.failed);
  }
  tab.addEventListener("click", show);
  addButton.addEventListener("click", function () { if (options) open(null); });
  // Another tab (desk.js shows its own view): leave this one.
  document.querySelectorAll("header nav button").forEach(function (b) {
    if (b !== tab) b.addEventListener("click", function () { view.hidden = true; tab.setAttribute("aria-pressed", "false"); });
  });
  // An admin with no other tab lands here.
  document.addEventListener("DOMContentLoaded", function () {
    var others = Array.prototype.filter.call(document.querySelectorAll("header nav button"),
                                             function (b) { return b !== tab && !b.hidden; });
    if (!others.length) show();
  });
})();
