"""What every chat entry point shares (without importing Rasa)."""

from bot.conversation.guard import MAX_SENDER_LENGTH

APOLOGY = (
    "Xin lỗi, hệ thống đang gặp sự cố nên mình chưa trả lời được. Tin nhắn của bạn đã được ghi nhận, "
    "bạn vui lòng thử lại sau ít phút nhé. / Sorry, something went wrong on our side. "
    "Please try again in a few minutes."
)


def read_rest_body(body):
    """(sender, text, metadata, error) from a Rasa-REST-shaped request body; text is NFC."""
    from bot.text import nfc

    body = body if isinstance(body, dict) else {}
    sender, text = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not sender or len(sender) > MAX_SENDER_LENGTH:
        return None, None, None, f"'sender' must be a non-empty string of at most {MAX_SENDER_LENGTH} characters"
    if not isinstance(text, str):
        return None, None, None, "'message' must be a string"
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else None
    return sender, nfc(text), metadata, None


# A customer's photo or file (Telegram or the website widget): the acknowledgement and the transcript line.
ATTACHMENT_RECEIVED = {
    "vi": "Mình đã nhận được {what} của bạn, {what} đã được đính kèm vào cuộc trò chuyện để nhân viên xem.",
    "en": "We received your {what}; it is attached to your conversation for our staff.",
}
ATTACHMENT_WORDS = {"vi": {"photo": "ảnh", "document": "tệp"}, "en": {"photo": "photo", "document": "file"}}


def attachment_received(language: str, kind: str) -> str:
    language = language if language in ATTACHMENT_RECEIVED else "vi"
    return ATTACHMENT_RECEIVED[language].format(what=ATTACHMENT_WORDS[language][kind])


def attachment_text(caption: str, kind: str, file_name=None) -> str:
    """The transcript text of an attachment: its caption, else a placeholder (the desk's lists show it)."""
    return caption or f"[{kind}{': ' + file_name if file_name else ''}]"


def attachment_caption(text: str, attachment: dict) -> str:
    """What the customer wrote with the attachment: the line's text unless it is only the placeholder."""
    placeholder = attachment_text("", attachment.get("kind") or "", attachment.get("file_name"))
    return "" if text == placeholder else text
