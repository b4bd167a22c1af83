"""The WSGI application gunicorn serves: `gunicorn demo.wsgi`.

Each gunicorn worker imports this module after the fork, so each opens its
own gRPC channel to sessiond (gRPC channels must not cross a fork: do not
run this app with gunicorn's --preload).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")

application = get_wsgi_application()
