/* hotro chat widget: one <script> tag, no build step.
 *
 *   <script src="https://support.example.vn/widget.js"></script>
 *   <script>window.HotroWidget = {title: "Hỗ trợ", language: "vi", color: "#0a7d5a"}</script>  (optional, before it)
 *
 * Talks to the gateway over a WebSocket (/ws); photos and PDFs go to POST /upload.
 * Customer text (file names too) is always inserted as text (textContent), never as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var config = window.HotroWidget || {};
  var server = (config.server || (script && script.src ? new URL(script.src).origin : location.origin)).replace(/\/$/, "");
  var lang = (config.language || document.documentElement.lang || navigator.language || "vi").slice(0, 2) === "en" ? "en" : "vi";
  var T = {
    vi: {title: "Hỗ trợ khách hàng", open: "Mở khung chat hỗ trợ", close: "Đóng", placeholder: "Nhập tin nhắn…",
         send: "Gửi", typing: "Đang trả lời…", offline: "Mất kết nối, đang kết nối lại…", staff: "Nhân viên",
         attach: "Đính kèm ảnh hoặc tệp PDF", sending: "Đang gửi tệp…", photo: "Ảnh", file: "Tệp",
         too_big: "Tệp lớn hơn 10 MB, bạn vui lòng gửi tệp nhỏ hơn.",
         bad_type: "Chỉ gửi được ảnh JPEG, PNG, WebP hoặc tệp PDF.",
         too_many: "Bạn đã gửi nhiều tệp trong một giờ, vui lòng thử lại sau.",
         no_space: "Hiện chưa nhận thêm được tệp, bạn vui lòng mô tả bằng tin nhắn hoặc gửi lại sau.",
         upload_failed: "Chưa gửi được tệp, bạn vui lòng thử lại."},
    en: {title: "Customer support", open: "Open the support chat", close: "Close", placeholder: "Type a message…",
         send: "Send", typing: "Typing…", offline: "Connection lost, reconnecting…", staff: "Staff",
         attach: "Attach a photo or a PDF", sending: "Sending the file…", photo: "Photo", file: "File",
         too_big: "The file is larger than 10 MB; please send a smaller one.",
         bad_type: "Only JPEG, PNG or WebP photos and PDF files can be sent.",
         too_many: "You have sent many files this hour; please try again later.",
         no_space: "Files cannot be received just now; please describe it in a message or try again later.",
         upload_failed: "The file could not be sent; please try again."}
  }[lang];
  var color = config.color || "#0a7d5a";
  // The gateway decides the type from the file's bytes; these only spare the customer a pointless upload.
  var ACCEPT = ["image/jpeg", "image/png", "image/webp", "application/pdf"];
  var MAX_UPLOAD = 10 * 1024 * 1024;
  // The gateway gives each chat an id and a secret (POST /conversations); the secret alone opens the chat,
  // so it stays in this browser. Older ids without a secret start a new chat.
  var key = "hotro-chat";
  var chat = null;
  try { chat = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { chat = null; }
  if (!chat || typeof chat.sender !== "string" || typeof chat.secret !== "string") chat = null;
  localStorage.removeItem("hotro-session");

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
    ".hotro-form .hotro-attach{background:transparent;color:#445;padding:0 10px;font-size:18px}",
    ".hotro-thumb{display:block;max-width:160px;max-height:160px;border-radius:6px}",
    ".hotro-file{display:block;font-weight:600}",
    ".hotro-error{display:block;font-size:12px;color:#fff;opacity:.9}",
    ".hotro-failed{opacity:.6}",
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
  var attachButton = el("button", {"type": "button", "class": "hotro-attach", "aria-label": T.attach, "title": T.attach}, "📎");
  var fileInput = el("input", {"type": "file", "accept": ACCEPT.join(","), "hidden": ""});
  form.appendChild(attachButton);
  form.appendChild(fileInput);
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
    if (message.attachment) bubble.appendChild(attachmentView(message.attachment, message.localUrl));
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
    return bubble;
  }

  // The customer's own photo from the picture in their browser (`localUrl`); after a reload, its name only:
  // the gateway gives files back to staff, never to the public.
  function attachmentView(attachment, localUrl) {
    var word = attachment.kind === "photo" ? T.photo : T.file;
    if (localUrl) return el("img", {"class": "hotro-thumb", "src": localUrl, "alt": attachment.file_name || word});
    return el("span", {"class": "hotro-file"}, (attachment.kind === "photo" ? "🖼 " : "📄 ") + (attachment.file_name || word));
  }

  var socket = null;
  var ready = false;  // the socket has opened the chat (history received): messages may go
  var retry = 0;
  var queue = [];
  function reconnect() {
    ready = false;
    status.textContent = T.offline;
    retry = Math.min(retry + 1, 6);
    setTimeout(connect, 500 * Math.pow(2, retry - 1));
  }

  function openChat(then) {
    if (chat) return then();
    // A form body keeps this a simple request: no CORS preflight when the widget is on the shop's own site.
    fetch(server + "/conversations", {method: "POST", body: new URLSearchParams({language: lang})})
      .then(function (response) {
        if (response.status === 429) {
          // Too many new chats from this address: say so, and try again when the gateway says.
          var wait = parseInt(response.headers.get("Retry-After"), 10) || 60;
          return response.json().then(function (body) { throw {limited: body.error, wait: wait}; });
        }
        if (!response.ok) throw response.status;
        return response.json();
      })
      .then(function (opened) {
        chat = {sender: opened.sender, secret: opened.secret};
        localStorage.setItem(key, JSON.stringify(chat));
        then();
      })
      .catch(function (why) {
        if (!why || !why.limited) return reconnect();
        status.textContent = why.limited;
        setTimeout(connect, why.wait * 1000);
      });
  }

  function connect() {
    openChat(function () {
      socket = new WebSocket(server.replace(/^http/, "ws") + "/ws");
      socket.onopen = function () {
        socket.send(JSON.stringify({type: "open", sender: chat.sender, secret: chat.secret}));
      };
      socket.onmessage = onMessage;
      socket.onclose = reconnect;
    });
  }

  function onMessage(event) {
    var data = JSON.parse(event.data);
    if (data.type === "error" && data.code === "forbidden") {
      // The chat was forgotten (or the secret lost): start a new one rather than retry forever.
      chat = null;
      localStorage.removeItem(key);
    } else if (data.type === "error" && data.code === "rate_limited") {
      notSent(data);
    } else if (data.type === "history") {
      ready = true;
      retry = 0;
      status.textContent = "";
      log.textContent = "";
      data.messages.forEach(render);
      // Typed while offline: shown again under the history, then sent.
      while (queue.length) {
        var waiting = queue.shift();
        if (sent[waiting.ref]) sent[waiting.ref].bubble = render({author: "customer", text: waiting.shown});
        socket.send(waiting.frame);
      }
    } else if (data.type === "message") {
      if (data.ref && mine[data.ref]) return;  // this tab's own upload, already shown
      status.textContent = "";
      render(data);
    }
  }

  // The latest messages by their ref: one the gateway refuses (too fast) is marked as not sent, and typed
  // text goes back in the box to be sent again. The gateway did not keep it.
  var sent = {}, sentOrder = [];
  function send(text, shown) {
    text = (text || "").trim();
    if (!text) return;
    var ref = "m" + Math.random().toString(36).slice(2) + Date.now().toString(36);
    sent[ref] = {bubble: render({author: "customer", text: shown || text}), typed: shown ? "" : text};
    sentOrder.push(ref);
    if (sentOrder.length > 50) delete sent[sentOrder.shift()];
    status.textContent = T.typing;
    var frame = JSON.stringify({type: "message", text: text, metadata: {language: lang}, ref: ref});
    if (socket && socket.readyState === WebSocket.OPEN && ready) socket.send(frame);
    else queue.push({frame: frame, shown: shown || text, ref: ref});
  }

  function notSent(data) {
    status.textContent = "";
    var message = data.ref && sent[data.ref];
    if (!message) return render({author: "system", text: data.error});
    message.bubble.classList.add("hotro-failed");
    message.bubble.appendChild(el("span", {"class": "hotro-error", "role": "alert"}, data.error));
    if (message.typed && !input.value) input.value = message.typed;
  }

  var mine = {};
  function upload(file) {
    if (file.type && ACCEPT.indexOf(file.type) < 0) return render({author: "system", text: T.bad_type});
    if (file.size > MAX_UPLOAD) return render({author: "system", text: T.too_big});
    var ref = "u" + Math.random().toString(36).slice(2) + Date.now().toString(36);
    mine[ref] = true;
    var kind = file.type === "application/pdf" ? "document" : "photo";
    var bubble = render({author: "customer", text: "", attachment: {kind: kind, file_name: file.name},
                         localUrl: kind === "photo" ? URL.createObjectURL(file) : null});
    status.textContent = T.sending;
    if (!chat) return render({author: "system", text: T.upload_failed});
    var body = new FormData();
    body.append("secret", chat.secret);  // first: the gateway reads no file before it
    body.append("language", lang);
    body.append("ref", ref);
    body.append("file", file, file.name);
    // The acknowledgement arrives over the WebSocket, like every reply; the answer here only says whether it worked.
    fetch(server + "/upload?sender=" + encodeURIComponent(chat.sender), {method: "POST", body: body})
      .then(function (response) {
        if (!response.ok) throw response.status;
        if (status.textContent === T.sending) status.textContent = "";
      })
      .catch(function (code) {
        var why = code === 413 ? T.too_big : code === 415 ? T.bad_type : code === 429 ? T.too_many
          : code === 507 ? T.no_space : T.upload_failed;
        bubble.classList.add("hotro-failed");
        bubble.appendChild(el("span", {"class": "hotro-error", "role": "alert"}, why));
        status.textContent = "";
      });
  }

  attachButton.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    if (fileInput.files && fileInput.files[0]) upload(fileInput.files[0]);
    fileInput.value = "";  // the same file can be chosen again after an error
  });
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
