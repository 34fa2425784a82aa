from allauth.socialaccount.adapter import DefaultSocialAccountAdapter


class SiweSocialAccountAdapter(DefaultSocialAccountAdapter):
    """Wallet accounts need no sign-up form: the verified address is all we ask."""

    def is_auto_signup_allowed(self, request, sociallogin) -> bool:
        return True

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        user.username = data["username"]
        return user
