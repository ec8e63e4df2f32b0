"""Email through SMTP: the fallback channel, and where .ics invitations travel.

One connection is kept for a whole delivery run. A refusal before the message was accepted is
retried; a connection lost after DATA was sent means the answer was lost (unknown).
"""

from __future__ import annotations

import contextlib
import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from html import escape

from touchpoints.nudges.compose import Message
from touchpoints.nudges.outcomes import SendResult, Verdict
from touchpoints.nudges.settings import NudgeSettings


def build_email(
    message: Message,
    *,
    to_name: str,
    to_email: str,
    sender: str,
    attachment: tuple[str, bytes, str] | None = None,
) -> EmailMessage:
    """A text + HTML email of a message (links are the same signed links as Teams buttons)."""
    email = EmailMessage()
    email["Subject"] = message.subject[:200]
    email["From"] = sender
    email["To"] = formataddr((to_name, to_email))
    email["Message-ID"] = make_msgid(domain="touchpoints")
    lines = [message.text, ""]
    for item in message.items:
        for action in item.actions:
            if action.url:
                lines.append(f"{action.label}: {action.url}")
    lines += ["", "Touchpoints · change how you are reached in your notification settings."]
    email.set_content("\n".join(lines))
    html = [f'<h1 style="font-size:18px">{escape(message.subject)}</h1>']
    for item in message.items:
        html.append(f'<h2 style="font-size:16px">{escape(item.headline)}</h2>')
        if item.facts:
            html.append(
                "<ul>"
                + "".join(
                    f"<li><strong>{escape(k)}</strong> {escape(v)}</li>" if k else f"<li>{escape(v)}</li>"
                    for k, v in item.facts
                )
                + "</ul>"
            )
        links = [f'<a href="{escape(a.url)}">{escape(a.label)}</a>' for a in item.actions if a.url]
        if links:
            html.append("<p>" + " · ".join(links) + "</p>")
    email.add_alternative("\n".join(html), subtype="html")
    if attachment is not None:
        name, data, mime = attachment
        main, _, sub = mime.partition("/")
        email.add_attachment(data, maintype=main, subtype=sub.split(";")[0], filename=name)
    return email


def build_invitation_email(
    message: Message, *, to_name: str, to_email: str, sender: str, ics: bytes, method: str
) -> EmailMessage:
    """An invitation email as calendar clients expect it.

    multipart/mixed holding a multipart/alternative (text, HTML, and the event as
    `text/calendar; method=REQUEST|CANCEL`, which Outlook, Gmail and Apple Mail act on), plus the
    same event as an `invite.ics` attachment for clients that only offer to open files.
    """
    email = build_email(message, to_name=to_name, to_email=to_email, sender=sender)
    text = ics.decode("utf-8")
    email.add_alternative(text, subtype="calendar", params={"method": method})
    email.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    return email


class EmailSender:
    """Sends through one SMTP connection, opened on first use and closed at the end of the run."""

    def __init__(self, settings: NudgeSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(
                self.settings.smtp_host or "localhost",
                self.settings.smtp_port,
                timeout=self.settings.smtp_timeout,
            )
            if self.settings.smtp_starttls:
                smtp.starttls()
            if self.settings.smtp_user:
                smtp.login(self.settings.smtp_user, self.settings.smtp_password or "")
            self._smtp = smtp
        return self._smtp

    def close(self) -> None:
        """Say goodbye to the server."""
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None

    def send(self, email: EmailMessage) -> SendResult:
        """Send one email; sorts the failure into retry, dead or unknown."""
        try:
            smtp = self._connection()
        except (smtplib.SMTPException, OSError) as error:
            self._smtp = None
            return SendResult.retry(f"Mail server unreachable: {error}")
        try:
            refused = smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            return SendResult(Verdict.DEAD, f"The mail server refused the address: {error.recipients}")
        except smtplib.SMTPSenderRefused as error:
            return SendResult(Verdict.DEAD, f"The mail server refused the sender: {error.smtp_error!r}")
        except smtplib.SMTPDataError as error:
            if 400 <= error.smtp_code < 500:
                return SendResult.retry(f"The mail server deferred the message ({error.smtp_code})")
            return SendResult(Verdict.DEAD, f"The mail server rejected the message ({error.smtp_code})")
        except (smtplib.SMTPServerDisconnected, TimeoutError, ConnectionError) as error:
            self._smtp = None
            return SendResult(Verdict.UNKNOWN, f"The mail server went away while sending: {error}")
        except smtplib.SMTPException as error:
            self.close()
            return SendResult.retry(f"Mail error: {error}")
        if refused:
            return SendResult(Verdict.DEAD, f"The mail server refused: {', '.join(refused)}")
        return SendResult.sent(str(email["Message-ID"]))
