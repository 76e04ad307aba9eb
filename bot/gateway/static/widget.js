/* hotro chat widget: one <script> tag, no build step.
 *
 *   <script src="https://support.example.vn/widget.js"></script>
 *   <script>window.HotroWidget = {title: "Hỗ trợ", language: "vi", color: "#0a7d5a"}</script>  (optional, before it)
 *
 * Talks to the gateway over a WebSocket (/ws). Customer text is always inserted
 * as text (textContent), never as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var config = window.HotroWidget || {};
  var server = (config.server || (script && script.src ? new URL(script.src).origin : location.origin)).replace(/\/$/, "");
  var lang = (config.language || document.documentElement.lang || navigator.language || "vi").slice(0, 2) === "en" ? "en" : "vi";
  var T = {
    vi: {title: "Hỗ trợ khách hàng", open: "Mở khung chat hỗ trợ", close: "Đóng", placeholder: "Nhập tin nhắn…",
         send: "Gửi", typing: "Đang trả lời…", offline: "Mất kết nối, đang kết nối lại…", staff: "Nhân viên"},
    en: {title: "Customer support", open: "Open the support chat", close: "Close", placeholder: "Type a message…",
         send: "Send", typing: "Typing…", offline: "Connection lost, reconnecting…", staff: "Staff"}
  }[lang];
  var color = config.color || "#0a7d5a";
  var key = "hotro-session";
  var session = localStorage.getItem(key);
  if (!session) {
    session = "web-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
    localStorage.setItem(key, session);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var css = el("style", {}, [
    ".hotro-launcher{position:fixed;right:16px;bottom:16px;border:0;border-radius:28px;padding:14px 18px;color:#fff;font:600 15px system-ui,sans-serif;cursor:pointer;z-index:2147483000}",
    ".hotro-panel{position:fixed;right:16px;bottom:16px;width:min(380px,calc(100vw - 32px));height:min(560px,calc(100vh - 32px));display:none;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);font:14px/1.45 system-ui,sans-serif;z-index:2147483001;overflow:hidden}",
    ".hotro-panel.open{display:flex}",
    ".hotro-head{display:flex;justify-content:space-between;align-items:center;padding:12px 14px;color:#fff;font-weight:600}",
    ".hotro-head button{background:transparent;border:0;color:#fff;font-size:20px;cursor:pointer}",
    ".hotro-log{flex:1;overflow-y:auto;padding:12px;background:#f6f7f9}",
    ".hotro-msg{max-width:85%;margin:6px 0;padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}",
    ".hotro-customer{margin-left:auto;color:#fff}",
    ".hotro-bot,.hotro-staff{background:#fff;border:1px solid #e3e5e8}",
    ".hotro-system{margin:6px auto;background:transparent;color:#667;font-size:12px;text-align:center}",
    ".hotro-name{display:block;font-size:12px;font-weight:600;color:#445}",
    ".hotro-buttons{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0 8px}",
    ".hotro-buttons button{border:1px solid;background:#fff;border-radius:16px;padding:5px 10px;cursor:pointer;font:inherit}",
    ".hotro-status{font-size:12px;color:#667;padding:0 12px;min-height:18px}",
    ".hotro-form{display:flex;border-top:1px solid #e3e5e8}",
    ".hotro-form input{flex:1;border:0;padding:12px;font:inherit;outline-offset:-2px}",
    ".hotro-form button{border:0;color:#fff;padding:0 16px;font:600 14px system-ui,sans-serif;cursor:pointer}"
  ].join("\n"));
  document.head.appendChild(css);

  var launcher = el("button", {"class": "hotro-launcher", "aria-label": T.open, "type": "button"}, "💬 " + (config.title || T.title));
  launcher.style.background = color;
  var panel = el("section", {"class": "hotro-panel", "aria-label": config.title || T.title});
  var head = el("div", {"class": "hotro-head"});
  head.style.background = color;
  head.appendChild(el("span", {}, config.title || T.title));
  var closeButton = el("button", {"type": "button", "aria-label": T.close}, "×");
  head.appendChild(closeButton);
  var log = el("div", {"class": "hotro-log", "role": "log", "aria-live": "polite"});
  var status = el("div", {"class": "hotro-status", "aria-live": "polite"});
  var form = el("form", {"class": "hotro-form"});
  var input = el("input", {"type": "text", "placeholder": T.placeholder, "aria-label": T.placeholder, "maxlength": "4000"});
  var sendButton = el("button", {"type": "submit"}, T.send);
  sendButton.style.background = color;
  form.appendChild(input);
  form.appendChild(sendButton);
  [head, log, status, form].forEach(function (node) { panel.appendChild(node); });
  document.body.appendChild(launcher);
  document.body.appendChild(panel);

  function linkify(container, text) {
    // Links become <a> elements built with textContent: untrusted text never becomes HTML.
    var parts = text.split(/(https?:\/\/[^\s<>"]+)/g);
    parts.forEach(function (part, i) {
      if (i % 2 === 1) {
        var a = el("a", {"href": part, "target": "_blank", "rel": "noopener noreferrer"}, part);
        container.appendChild(a);
      } else if (part) {
        container.appendChild(document.createTextNode(part));
      }
    });
  }

  function render(message) {
    var author = message.author || "bot";
    var bubble = el("div", {"class": "hotro-msg hotro-" + author});
    if (author === "customer") bubble.style.background = color;
    if (author === "staff") bubble.appendChild(el("span", {"class": "hotro-name"}, message.name || T.staff));
    var body = el("span", {});
    linkify(body, message.text || "");
    bubble.appendChild(body);
    log.appendChild(bubble);
    var buttons = message.buttons || [];
    if (buttons.length) {
      var row = el("div", {"class": "hotro-buttons"});
      buttons.forEach(function (button) {
        var b = el("button", {"type": "button"}, button.title);
        b.style.borderColor = color;
        b.style.color = color;
        b.addEventListener("click", function () { send(button.payload, button.title); });
        row.appendChild(b);
      });
      log.appendChild(row);
    }
    log.scrollTop = log.scrollHeight;
  }

  var socket = null;
  var retry = 0;
  var queue = [];
  function connect() {
    var url = server.replace(/^http/, "ws") + "/ws?sender=" + encodeURIComponent(session);
    socket = new WebSocket(url);
    socket.onopen = function () {
      retry = 0;
      status.textContent = "";
      while (queue.length) socket.send(queue.shift());
    };
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "history") {
        log.textContent = "";
        data.messages.forEach(render);
      } else if (data.type === "message") {
        status.textContent = "";
        render(data);
      }
    };
    socket.onclose = function () {
      status.textContent = T.offline;
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * Math.pow(2, retry - 1));
    };
  }

  function send(text, shown) {
    text = (text || "").trim();
    if (!text) return;
    render({author: "customer", text: shown || text});
    status.textContent = T.typing;
    var frame = JSON.stringify({type: "message", text: text, metadata: {language: lang}});
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(frame); else queue.push(frame);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(input.value);
    input.value = "";
  });
  launcher.addEventListener("click", function () {
    panel.classList.add("open");
    launcher.style.display = "none";
    input.focus();
  });
  closeButton.addEventListener("click", function () {
    panel.classList.remove("open");
    launcher.style.display = "";
    launcher.focus();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && panel.classList.contains("open")) closeButton.click();
  });
  connect();
})();
