"""The fund's open face: the JSON API under /api/v1 (documented by the OpenAPI document generated
from its code) and the open data in the 360Giving Data Standard."""


def init_app(app):
    from . import opendata, v1

    v1.init_app(app)
    app.register_blueprint(opendata.bp)
