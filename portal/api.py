"""The JSON API (`/api/v1/`): one NinjaAPI, one router per app. Errors are always `{"error": "<sentence>"}`."""

from ninja import NinjaAPI, Swagger

from governance.api import router as governance_router
from portal.discussion.api import router as discussion_router
from portal.api_types import BodyParser
from portal.errors import install_api_handlers
from portal.feedback.api import router as feedback_router
from portal.health.api import router as health_router
from portal.lending.api import router as lending_router
from portal.people.api import router as people_router
from portal.search.api import router as search_router

api = NinjaAPI(
    title="DAO Portal API",
    version="1",
    description="Proposals, signed votes, recount files, discussion threads and the feedback board.",
    urls_namespace="api-v1",
    docs_url="/docs",
    # No deep links: Swagger UI puts each one as a link inside the operation's toggle button (nested controls that
    # screen readers cannot reach). The page itself is templates/ninja/swagger.html, in the site's frame.
    docs=Swagger(settings={"deepLinking": False}),
    openapi_url="/openapi.json",
    parser=BodyParser(),
)

install_api_handlers(api)

api.add_router("", governance_router, tags=["governance"])
api.add_router("", discussion_router, tags=["discussion"])
api.add_router("", feedback_router, tags=["feedback"])
api.add_router("", lending_router, tags=["lending"])
api.add_router("", people_router, tags=["people"])
api.add_router("", search_router, tags=["search"])
api.add_router("", health_router, tags=["status"])
