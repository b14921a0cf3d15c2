"""Sign-in endpoints of the API: the token endpoint with brute-force protection.

The web and admin logins are Django's own views: django-axes' backend and middleware guard
them (accounts/lockout.py decides what a locked-out person sees).
"""

from __future__ import annotations

from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from servicedesk.parsers import SafeTextJSONParser

from .lockout import token_lockout_response
from .throttles import LoginRateThrottle


class ObtainTokenView(ObtainAuthToken):
    """POST username and password → the person's API token.

    Throttled per client address (`login` rate), and locked out per username and address by
    django-axes like the web login: a locked-out request gets 429 with Retry-After, even with
    the right password.
    """

    throttle_classes = [LoginRateThrottle]
    parser_classes = [FormParser, MultiPartParser, SafeTextJSONParser]

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        valid = serializer.is_valid()
        # Checked after authenticate() ran: axes flags the request that reached the limit.
        locked = token_lockout_response(request)
        if locked is not None:
            return locked
        if not valid:
            raise ValidationError(serializer.errors)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


obtain_token = ObtainTokenView.as_view()
