from rest_framework.routers import SimpleRouter

from .views import MailboxViewSet, QuarantineViewSet

router = SimpleRouter()
router.register("mail/mailboxes", MailboxViewSet, basename="api-mailbox")
router.register("mail/quarantine", QuarantineViewSet, basename="api-mail-quarantine")

urlpatterns = router.urls
