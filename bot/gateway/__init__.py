"""The gateway: every channel's messages pass here; it owns conversations and keeps transcripts."""
