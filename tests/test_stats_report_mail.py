"""Monthly reports e-mailed to each service, once."""

from datetime import UTC, datetime

from core.settings import Settings
from stats.report import build_monthly_reports, file_name
from stats.report_mail import send_monthly_reports
from tests.stats_fixtures import insert, small_fixture


class CollectingMailer:
    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(message)

    def close(self):
        pass


def test_each_service_gets_its_report_once(sessions, caplog):
    insert(sessions, small_fixture())
    with sessions() as session:
        reports = build_monthly_reports(session, "2026-03")
    assert sorted(reports) == ["Lyon", "Paris"]
    names = {service: file_name("2026-03", service) for service in reports}
    emails = {"Paris": "moe-75@example.gouv.fr"}  # Lyon has no address
    mailer = CollectingMailer()
    now = datetime(2026, 4, 1, 6, tzinfo=UTC)

    delivery = send_monthly_reports(sessions, mailer, reports, "2026-03", names, emails, now, Settings())
    assert delivery.sent == 1
    (message,) = mailer.sent
    assert message["To"] == "moe-75@example.gouv.fr" and "mars 2026" in message["Subject"]
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == names["Paris"]
    assert attachment.get_content() == reports["Paris"]
    assert "Lyon" in caplog.text

    again = send_monthly_reports(sessions, mailer, reports, "2026-03", names, emails, now, Settings())
    assert again.sent == 0 and len(mailer.sent) == 1
