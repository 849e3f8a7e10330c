from typing import Any

from django.conf import settings
from django.http import HttpRequest


def console(request: HttpRequest) -> dict[str, Any]:
    """What every console page needs: the product name and the user's roles."""
    user = request.user
    roles = list(user.groups.values_list("name", flat=True)) if user.is_authenticated else []
    return {"site_name": settings.SITE_NAME, "user_roles": roles}
