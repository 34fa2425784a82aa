from django.template.response import TemplateResponse
from portal.errors import handler404


def home(request):
    return TemplateResponse(request, "home.html", {})


def help_page(request):
    """A short page for the words a newcomer meets: snapshot, delegation, health factor, signed receipts."""
    return TemplateResponse(request, "portal/help.html", {})


def api_not_found(request):
    """An address under /api/ that no route serves: `{"error"}` with 404, whatever DEBUG says."""
    return handler404(request)
