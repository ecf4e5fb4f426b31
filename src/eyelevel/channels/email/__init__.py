"""Email as a channel (docs/email.md).

``listener`` is the inbound SMTP server (aiosmtpd, inside the running event loop): it refuses
unknown recipients at ``RCPT TO`` and oversize mails at ``DATA``, and hands every accepted mail
to :func:`eyelevel.core.actions.mail_inbound.check_receive_mail`. ``parse`` turns the MIME
message into plain text and files (``html`` makes HTML safe text). Outbound replies are built
in ``core.actions.mail_outbound`` and sent by the job worker's mailer.

Like every channel it imports ``core`` only, never ``storage``, ``config`` or ``jobs``.
"""
