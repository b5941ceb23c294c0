from flask import Blueprint, render_template
from flask_login import current_user

from .queries import home_figures

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    return render_template("home/index.html", figures=home_figures(current_user))
