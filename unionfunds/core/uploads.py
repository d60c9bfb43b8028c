"""What uploads the system accepts: the type is sniffed from the first bytes, never from the name."""

ALLOWED_UPLOADS = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}


def sniff_upload(content: bytes) -> str | None:
    """Content type of a PDF, PNG or JPEG file; None for anything else."""
    for magic, content_type in ALLOWED_UPLOADS.items():
        if content.startswith(magic):
            return content_type
    return None
