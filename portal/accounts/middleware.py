from django.contrib import messages
from django.contrib.auth import logout

from .sanctions import active_suspension, format_until


class SuspendedAccountMiddleware:
    """Sign a suspended account out of the sessions it already had, saying why and until when.

    New sign-ins are refused by the SIWE view; posting is refused by the discussion services. One indexed query per
    signed-in request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            suspension = active_suspension(user=user)
            if suspension:
                logout(request)
                messages.error(
                    request, f"Your account is suspended until {format_until(suspension.ends)}: {suspension.reason}"
                )
        return self.get_response(request)
