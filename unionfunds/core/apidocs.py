"""The interactive API docs (Swagger UI, from drf-spectacular-sidecar's static files) under a policy of their own.

The split view serves Swagger UI's start-up script as a file of its own (``/api/docs/?script``), so scripts
stay ``'self'`` as everywhere else. Its page template carries an inline style block, so this page alone also
allows inline styles: it shows nothing but our own schema, and no script can be injected through a style.
"""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularSwaggerSplitView


@method_decorator(csp_update({"style-src": [UNSAFE_INLINE]}), name="get")
class ApiDocsView(SpectacularSwaggerSplitView):
    pass
