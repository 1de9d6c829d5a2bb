from ninja.security import APIKeyCookie, HttpBearer

from yizhan.orgs.scoping import scope_for
from yizhan.orgs.services import user_for_token


class TokenAuth(HttpBearer):
    """`Authorization: Bearer yz_…`: the token acts as its user, through the same chokepoint."""

    openapi_description = "A personal API token created in the back office or with `yizhan create_api_token`."

    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is None or not scope_for(user).is_staff:
            return None
        request.user = user
        return user


class StaffSessionAuth(APIKeyCookie):
    """The back office's own session (with CSRF), so staff pages may call the API too."""

    param_name = "sessionid"

    def _get_key(self, request):
        # Without a staff session there is nothing for CSRF to protect: the caller is not
        # authenticated (401, like a read), rather than refused a CSRF check (403).
        if self.authenticate(request, None) is None:
            return None
        return super()._get_key(request)

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and scope_for(user).is_staff:
            return user
        return None
