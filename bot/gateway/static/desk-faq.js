/* hotro desk, FAQ tab (editors): list and search entries, edit, add, retire, history and restore, try a question,
   and the questions customers asked that the FAQ did not answer well. Plain JavaScript over /api/faq.
   Everything comes back into the page with textContent, never as HTML. */
(function () {
  "use strict";
  var D = window.hotroDesk;
  if (!D || !document.getElementById("view-faq")) return;
  var api = D.api, el = D.el, clear = D.clear;
  var T = D.EN ? {
    faq_entries: "FAQ entries", faq_find: "Search", faq_topic: "Topic", faq_all: "All", faq_new: "+ New entry",
    faq_retired: "Retired", faq_id: "Id (lowercase letters, digits, dashes; it never changes afterwards)",
    faq_topic_file: "Topic (file in faq/)", faq_new_topic: "New topic's file name (e.g. mua-si)",
    faq_new_topic_title: "Topic heading (e.g. Mua sỉ / Wholesale)", faq_q_vi: "Vietnamese questions (one per line)",
    faq_q_en: "English questions (one per line)", faq_a_vi: "Vietnamese answer", faq_a_en: "English answer",
    faq_tags: "Tags (comma-separated)", faq_links: "Links", faq_add_link: "+ Add a link", faq_save: "Save",
    faq_retire: "Retire this entry", faq_history: "History", faq_try: "Try a question",
    faq_try_label: "A question a customer might ask", faq_try_button: "Try",
    faq_report: "Questions the FAQ did not answer well", editing: "Editing", new_entry: "New entry",
    new_topic_option: "+ New topic…", title_vi: "Title (Vietnamese)", title_en: "Title (English)", url: "Address (https://…)",
    remove: "Remove", saved: "Saved. Customers get it within a few seconds.", retired: "Retired: customers no longer get it.",
    confirm_retire: "Click again to retire", restore: "Restore this version", restored: "Restored.",
    conflict: "Someone changed this entry since you opened it. Your text is still in the form: reload the entry to see theirs, then make your change again.",
    reload: "Reload the entry", invalid: "Not saved: the FAQ check found problems (below). Nothing was changed.",
    answer: "The bot would answer with", suggest: "The bot would ask \u201cdid you mean\u201d:", none: "The bot has no answer for this.",
    score: "score", similarity: "similarity", entry: "entry", question: "first question", nothing_to_do: "Nothing to do: every question found its answer.",
    times: "×", no_answer: "no answer", thumbs_down: "👎 on", picked: "picked from “did you mean”:",
    add_example: "Add as an example question of", new_from: "Start a new entry from it",
    added_question: "The question was added below: check it and save.", create: "create", update: "update",
    retire: "retire", restore_action: "restore", by: "by", warnings: "Warnings: ", none_yet: "None."
  } : {
    faq_entries: "Các mục FAQ", faq_find: "Tìm", faq_topic: "Chủ đề", faq_all: "Tất cả", faq_new: "+ Thêm mục mới",
    faq_retired: "Đã gỡ", faq_id: "Mã mục (id: chữ thường, số, dấu gạch ngang; không đổi được sau này)",
    faq_topic_file: "Chủ đề (file trong faq/)", faq_new_topic: "Tên file chủ đề mới (vd. mua-si)",
    faq_new_topic_title: "Tiêu đề chủ đề (vd. Mua sỉ / Wholesale)", faq_q_vi: "Câu hỏi tiếng Việt (mỗi dòng một câu)",
    faq_q_en: "Câu hỏi tiếng Anh (mỗi dòng một câu)", faq_a_vi: "Câu trả lời tiếng Việt", faq_a_en: "Câu trả lời tiếng Anh",
    faq_tags: "Thẻ (cách nhau bằng dấu phẩy)", faq_links: "Liên kết", faq_add_link: "+ Thêm liên kết", faq_save: "Lưu",
    faq_retire: "Gỡ mục này", faq_history: "Lịch sử thay đổi", faq_try: "Thử một câu hỏi",
    faq_try_label: "Câu khách có thể hỏi", faq_try_button: "Thử",
    faq_report: "Khách hỏi mà bot chưa trả lời tốt", editing: "Sửa mục", new_entry: "Mục mới",
    new_topic_option: "+ Chủ đề mới…", title_vi: "Tiêu đề (tiếng Việt)", title_en: "Tiêu đề (tiếng Anh)", url: "Địa chỉ (https://…)",
    remove: "Xóa", saved: "Đã lưu. Khách sẽ nhận câu trả lời mới sau vài giây.", retired: "Đã gỡ: khách không còn nhận mục này.",
    confirm_retire: "Bấm lần nữa để gỡ", restore: "Khôi phục phiên bản này", restored: "Đã khôi phục.",
    conflict: "Có người đã sửa mục này sau khi bạn mở. Nội dung của bạn vẫn còn trong ô: hãy tải lại mục để xem bản của họ rồi sửa lại.",
    reload: "Tải lại mục", invalid: "Chưa lưu: kiểm tra FAQ thấy lỗi (xem bên dưới). Không có gì bị thay đổi.",
    answer: "Bot sẽ trả lời bằng mục", suggest: "Bot sẽ hỏi lại \u201cý bạn là\u201d:", none: "Bot không có câu trả lời cho câu này.",
    score: "điểm", similarity: "độ giống", entry: "mục", question: "câu hỏi đầu", nothing_to_do: "Không có gì cần làm: câu nào cũng đã có câu trả lời.",
    times: "lần", no_answer: "không có câu trả lời", thumbs_down: "👎 với", picked: "khách chọn trong “ý bạn là”:",
    add_example: "Thêm làm câu hỏi mẫu của", new_from: "Tạo mục mới từ câu này",
    added_question: "Đã thêm câu hỏi vào ô bên dưới: xem lại rồi bấm Lưu.", create: "tạo", update: "sửa",
    retire: "gỡ", restore_action: "khôi phục", by: "bởi", warnings: "Lưu ý: ", none_yet: "Chưa có."
  };
  document.querySelectorAll("#view-faq [data-i18n]").forEach(function (node) {
    if (T[node.dataset.i18n]) node.textContent = T[node.dataset.i18n];
  });
  function $(id) { return document.getElementById(id); }
  var NEW_TOPIC = "\u0000new";  // the topic select's "new topic" option: no file can be called that
  var editing = null;  // {id, version, topic} of the open entry; null for a new one
  var confirmRetire = false;

  function say(text) { D.status(text); }
  function lines(text) { return text.split("\n").map(function (l) { return l.trim(); }).filter(Boolean); }

  // -- the list ------------------------------------------------------------------------------
  var topicsKnown = [];
  function refreshList() {
    var form = $("faq-search");
    var query = new URLSearchParams();
    if (form.elements.q.value.trim()) query.set("q", form.elements.q.value.trim());
    if (form.elements.topic.value) query.set("topic", form.elements.topic.value);
    return api("GET", "/api/faq/entries?" + query.toString()).then(function (data) {
      topicsKnown = data.topics;
      fillTopics(form.elements.topic, data.topics, form.elements.topic.value, T.faq_all, "");
      var list = $("faq-entries");
      clear(list);
      data.entries.forEach(function (e) {
        var li = el("li");
        var open = el("button", {"type": "button", "class": "link", "data-id": e.id}, e.id);
        open.addEventListener("click", function () { openEntry(e.id); });
        li.appendChild(open);
        li.appendChild(el("div", {"class": "sub"}, e.topic + " · " + e.question));
        list.appendChild(li);
      });
      if (!data.entries.length) list.appendChild(el("li", {"class": "sub"}, T.none_yet));
      var retired = $("faq-retired");
      clear(retired);
      data.retired.forEach(function (r) {
        var li = el("li", {"data-id": r.id});
        li.appendChild(el("span", {}, r.id + " "));
        var back = el("button", {"type": "button", "class": "secondary"}, T.restore_action);
        back.addEventListener("click", function () {
          api("POST", "/api/faq/entries/" + encodeURIComponent(r.id) + "/restore", {revision: r.revision, version: null})
            .then(function (saved) { say(T.restored); refreshList(); return openEntry(saved.entry.id); })
            .catch(showFailure);
        });
        li.appendChild(back);
        li.appendChild(el("div", {"class": "sub"}, (r.topic || "") + " · " + T.by + " " + r.author + " · " + D.when(r.at)));
        retired.appendChild(li);
      });
      if (!data.retired.length) retired.appendChild(el("li", {"class": "sub"}, T.none_yet));
      var problems = data.topics.filter(function (t) { return t.problem; });
      if (problems.length) say(problems.map(function (t) { return t.problem; }).join(" · "));
    }).catch(D.failed);
  }
  function fillTopics(select, topics, keep, firstLabel, firstValue, withNew) {
    clear(select);
    if (firstLabel) select.appendChild(el("option", {"value": firstValue}, firstLabel));
    topics.forEach(function (t) {
      select.appendChild(el("option", {"value": t.name}, t.name + (t.title ? " — " + t.title : "")));
    });
    if (withNew) select.appendChild(el("option", {"value": NEW_TOPIC}, T.new_topic_option));
    select.value = keep || (firstLabel ? firstValue : (topics[0] || {}).name || NEW_TOPIC);
  }
  $("faq-search").addEventListener("submit", function (event) { event.preventDefault(); refreshList(); });
  $("faq-search").addEventListener("change", refreshList);
  var typing = null;
  $("faq-search").elements.q.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(refreshList, 300);
  });

  // -- the form ------------------------------------------------------------------------------
  function clearErrors() {
    document.querySelectorAll("#faq-form .field-error").forEach(function (p) { p.textContent = ""; });
    document.querySelectorAll("#faq-form [aria-invalid]").forEach(function (n) { n.removeAttribute("aria-invalid"); });
    $("faq-warnings").textContent = "";
  }
  var FIELD_INPUT = {"id": "faq-id", "topic": "faq-topic", "questions.vi": "faq-q-vi", "questions.en": "faq-q-en",
                     "answer.vi": "faq-a-vi", "answer.en": "faq-a-en", "tags": "faq-tags"};
  function showErrors(fields) {
    Object.keys(fields || {}).forEach(function (name) {
      var box = document.querySelector('#faq-form .field-error[data-field="' + name + '"]') ||
                document.querySelector('#faq-form .field-error[data-field="entry"]');
      box.textContent = fields[name].join("\n");
      if (FIELD_INPUT[name]) $(FIELD_INPUT[name]).setAttribute("aria-invalid", "true");
    });
  }
  function showWarnings(warnings) {
    var all = [];
    Object.keys(warnings || {}).forEach(function (k) { all = all.concat(warnings[k]); });
    $("faq-warnings").textContent = all.length ? T.warnings + all.join(" · ") : "";
  }
  function linkRow(link) {
    var title = link && link.title, row = el("div", {"class": "link-row"});
    var vi = el("input", {"aria-label": T.title_vi, "placeholder": T.title_vi, "maxlength": "200", "class": "link-title-vi"});
    var en = el("input", {"aria-label": T.title_en, "placeholder": T.title_en, "maxlength": "200", "class": "link-title-en"});
    var url = el("input", {"aria-label": T.url, "placeholder": T.url, "maxlength": "500", "class": "link-url", "type": "url"});
    vi.value = title && typeof title === "object" ? (title.vi || "") : (title || "");
    en.value = title && typeof title === "object" ? (title.en || "") : "";
    url.value = (link && link.url) || "";
    var remove = el("button", {"type": "button", "class": "secondary"}, T.remove);
    remove.addEventListener("click", function () { row.remove(); });
    [vi, en, url, remove].forEach(function (n) { row.appendChild(n); });
    $("faq-link-rows").appendChild(row);
  }
  $("faq-add-link").addEventListener("click", function () { linkRow(null); });

  function fillForm(entry) {
    var q = entry.questions || {}, a = entry.answer || {};
    $("faq-q-vi").value = (q.vi || []).join("\n");
    $("faq-q-en").value = (q.en || []).join("\n");
    $("faq-a-vi").value = a.vi || "";
    $("faq-a-en").value = a.en || "";
    $("faq-tags").value = (entry.tags || []).join(", ");
    clear($("faq-link-rows"));
    (entry.links || []).forEach(linkRow);
  }
  function formEntry() {
    var links = [];
    document.querySelectorAll("#faq-link-rows .link-row").forEach(function (row) {
      var vi = row.querySelector(".link-title-vi").value.trim(), en = row.querySelector(".link-title-en").value.trim();
      var url = row.querySelector(".link-url").value.trim();
      if (!vi && !en && !url) return;
      // One title for both languages unless an English one is given.
      links.push({title: en ? {vi: vi, en: en} : vi, url: url});
    });
    return {
      questions: {vi: lines($("faq-q-vi").value), en: lines($("faq-q-en").value)},
      answer: {vi: $("faq-a-vi").value, en: $("faq-a-en").value},
      tags: $("faq-tags").value.split(",").map(function (t) { return t.trim(); }).filter(Boolean),
      links: links
    };
  }
  function showEditor(isNew) {
    $("faq-editor").hidden = false;
    $("faq-new-fields").hidden = !isNew;
    $("faq-retire").hidden = isNew;
    $("faq-edit-title").textContent = isNew ? T.new_entry : T.editing;
    resetRetire();
    clearErrors();
  }
  function resetRetire() { confirmRetire = false; $("faq-retire").textContent = T.faq_retire; }

  function openEntry(id) {
    return api("GET", "/api/faq/entries/" + encodeURIComponent(id)).then(function (found) {
      editing = {id: found.entry.id, version: found.version, topic: found.topic};
      showEditor(false);
      $("faq-edit-id").textContent = found.entry.id + " · " + found.topic;
      fillForm(found.entry);
      return refreshHistory();
    }).catch(showFailure);
  }
  function newEntry(prefill) {
    editing = null;
    showEditor(true);
    $("faq-edit-id").textContent = "";
    $("faq-id").value = "";
    fillTopics($("faq-topic"), topicsKnown, "", null, null, true);
    topicChanged();
    fillForm(prefill || {});
    clear($("faq-history"));
    $("faq-id").focus();
  }
  function topicChanged() { $("faq-new-topic-fields").hidden = $("faq-topic").value !== NEW_TOPIC; }
  $("faq-topic").addEventListener("change", topicChanged);
  $("faq-new").addEventListener("click", function () { newEntry(); });

  function showFailure(error) {
    if (error.status === 422) {
      say(T.invalid);
      showErrors(error.data.fields);
      showWarnings(error.data.warnings);
    } else if (error.status === 409) {
      say(T.conflict);
      var again = el("button", {"type": "button", "class": "secondary"}, T.reload);
      var id = editing && editing.id;
      again.addEventListener("click", function () { say(""); if (id) openEntry(id); });
      var box = document.querySelector('#faq-form .field-error[data-field="entry"]');
      box.textContent = T.conflict + " ";
      box.appendChild(again);
    } else {
      D.failed(error);
    }
  }

  $("faq-form").addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    var entry = formEntry(), request;
    if (editing) {
      request = api("PUT", "/api/faq/entries/" + encodeURIComponent(editing.id), {version: editing.version, entry: entry});
    } else {
      var topic = $("faq-topic").value, body = {entry: entry, topic: topic};
      entry.id = $("faq-id").value.trim();
      if (topic === NEW_TOPIC) { body.topic = $("faq-new-topic").value.trim(); body.topic_title = $("faq-new-topic-title").value.trim(); }
      request = api("POST", "/api/faq/entries", body);
    }
    $("faq-save").disabled = true;
    request.then(function (saved) {
      say(T.saved);
      showWarnings(saved.warnings);
      editing = {id: saved.entry.id, version: saved.version, topic: saved.topic};
      showEditor(false);
      showWarnings(saved.warnings);
      $("faq-edit-id").textContent = saved.entry.id + " · " + saved.topic;
      fillForm(saved.entry);
      refreshList();
      return refreshHistory();
    }).catch(showFailure).then(function () { $("faq-save").disabled = false; });
  });

  $("faq-retire").addEventListener("click", function () {
    if (!editing) return;
    // A second click instead of a browser dialog: retiring is undone from the retired list anyway.
    if (!confirmRetire) { confirmRetire = true; $("faq-retire").textContent = T.confirm_retire; return; }
    api("POST", "/api/faq/entries/" + encodeURIComponent(editing.id) + "/retire", {version: editing.version})
      .then(function () { say(T.retired); editing = null; $("faq-editor").hidden = true; refreshList(); })
      .catch(showFailure).then(resetRetire);
  });

  // -- history ---------------------------------------------------------------------------------
  var ACTIONS = {create: T.create, update: T.update, retire: T.retire, restore: T.restore_action};
  function refreshHistory() {
    if (!editing) return Promise.resolve();
    var id = editing.id;
    return api("GET", "/api/faq/entries/" + encodeURIComponent(id) + "/history").then(function (revisions) {
      var list = $("faq-history");
      clear(list);
      revisions.forEach(function (r) {
        var li = el("li", {"data-revision": r.id});
        li.appendChild(el("strong", {}, D.when(r.at) + " · " + (ACTIONS[r.action] || r.action) + " · " + T.by + " " + r.author));
        var version = r.after || r.before;
        if (version && version.entry && version.entry.answer) {
          li.appendChild(el("div", {"class": "sub answer-vi"}, version.entry.answer.vi || ""));
          li.appendChild(el("div", {"class": "sub answer-en"}, version.entry.answer.en || ""));
        }
        if (version) {
          var restore = el("button", {"type": "button", "class": "secondary"}, T.restore);
          restore.addEventListener("click", function () {
            api("POST", "/api/faq/entries/" + encodeURIComponent(id) + "/restore",
                {revision: r.id, version: editing && editing.id === id ? editing.version : null})
              .then(function (saved) {
                say(T.restored);
                editing = {id: saved.entry.id, version: saved.version, topic: saved.topic};
                fillForm(saved.entry);
                clearErrors();
                showWarnings(saved.warnings);
                refreshList();
                return refreshHistory();
              }).catch(showFailure);
          });
          li.appendChild(restore);
        }
        list.appendChild(li);
      });
    }).catch(D.failed);
  }

  // -- try a question ----------------------------------------------------------------------------
  $("faq-try-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var question = $("faq-try").value.trim();
    if (!question) return;
    api("POST", "/api/faq/try", {question: question}).then(function (r) {
      var box = $("faq-try-result");
      clear(box);
      var verdict = r.decision === "answer" ? T.answer + " " + r.entry
        : r.decision === "suggest" ? T.suggest + " " + r.suggestions.join(", ") : T.none;
      box.appendChild(el("p", {"class": "verdict " + r.decision, "id": "faq-try-verdict"}, verdict));
      if (r.decision === "answer") {
        var top = r.ranked.filter(function (m) { return m.id === r.entry; })[0];
        if (top) box.appendChild(el("p", {"class": "sub"}, top.answer.vi));
      }
      var table = el("table", {"id": "faq-try-ranked"});
      var head = el("tr");
      [T.entry, T.score, T.similarity, T.question].forEach(function (h) { head.appendChild(el("th", {}, h)); });
      table.appendChild(head);
      r.ranked.forEach(function (m) {
        var row = el("tr", {"data-id": m.id});
        [m.id, m.score.toFixed(2), m.similarity.toFixed(2), m.question].forEach(function (v) { row.appendChild(el("td", {}, v)); });
        table.appendChild(row);
      });
      box.appendChild(table);
    }).catch(D.failed);
  });

  // -- the report: unanswered questions become work ------------------------------------------------
  var KINDS = {unanswered: T.no_answer, not_helpful: T.thumbs_down, picked: T.picked};
  function refreshReport() {
    return api("GET", "/api/faq/report").then(function (items) {
      var list = $("faq-report");
      clear(list);
      items.forEach(function (item) {
        var li = el("li", {"class": "report-line"});
        li.appendChild(el("strong", {}, item.count + " " + T.times + " "));
        li.appendChild(el("span", {"class": "question"}, item.question));
        li.appendChild(el("div", {"class": "sub"}, item.language + " · " + KINDS[item.kind] + (item.faq_id ? " " + item.faq_id : "")));
        var action = el("button", {"type": "button", "class": "secondary"},
                        item.action === "add_example" ? T.add_example + " " + item.entry : T.new_from);
        action.addEventListener("click", function () {
          if (item.action === "add_example") {
            openEntry(item.entry).then(function () {
              var box = $(item.language === "en" ? "faq-q-en" : "faq-q-vi");
              box.value = (box.value.trim() ? box.value.trim() + "\n" : "") + item.question;
              box.focus();
              say(T.added_question);
            });
          } else {
            var questions = {vi: [], en: []};
            questions[item.language === "en" ? "en" : "vi"].push(item.question);
            newEntry({questions: questions});
          }
        });
        li.appendChild(action);
        list.appendChild(li);
      });
      if (!items.length) list.appendChild(el("li", {"class": "sub"}, T.nothing_to_do));
    }).catch(D.failed);
  }

  D.showFaq = function () { refreshList(); refreshReport(); };
})();
