"""docker-compose.yml, the Dockerfile and the README agree with the settings.

No Docker engine runs here, so the files are parsed and checked against what the settings read.
"""

import ast
import re
import shlex
from pathlib import Path

import dj_database_url
import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
ENV_HELPERS = {"env_str", "env_bool", "env_int", "env_list"}
APP_SERVICES = ("web", "worker", "beat")


def _variables_read_by_settings() -> set[str]:
    names = set()
    for path in (ROOT / "comadvisor" / "settings.py", ROOT / "comadvisor" / "env.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ENV_HELPERS
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(node.args[0].value)
    return names


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _command(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else command


def _resolve(value: str) -> str:
    """Compose interpolation with the defaults written in the file (${NAME:-default})."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_settings_read_the_documented_variables():
    assert {
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "EMAIL_URL",
        "TIME_ZONE",
    } <= (_variables_read_by_settings())


def test_compose_has_the_five_services(compose):
    assert set(compose["services"]) == {"postgres", "redis", "web", "worker", "beat"}


def test_every_service_has_a_healthcheck(compose):
    for name, service in compose["services"].items():
        assert service.get("healthcheck", {}).get("test"), name


def test_app_services_share_one_image_built_from_the_dockerfile(compose):
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert service["build"] == ".", name
        assert service["image"] == "comadvisor-crm", name


def test_web_migrates_then_runs_gunicorn(compose):
    command = " ".join(_command(compose["services"]["web"]))

    assert command.index("manage.py migrate") < command.index(
        "gunicorn comadvisor.wsgi:application"
    )
    assert compose["services"]["web"]["ports"] == ["8000:8000"]


def test_worker_and_beat_run_celery_with_the_database_scheduler(compose):
    worker = _command(compose["services"]["worker"])
    beat = _command(compose["services"]["beat"])

    assert worker[:4] == ["celery", "-A", "comadvisor", "worker"]
    assert beat[:4] == ["celery", "-A", "comadvisor", "beat"]
    assert beat[beat.index("--scheduler") + 1] == settings.CELERY_BEAT_SCHEDULER


def test_startup_order_waits_for_healthy_dependencies(compose):
    services = compose["services"]
    assert services["web"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    for name in ("worker", "beat"):
        assert services[name]["depends_on"] == {"web": {"condition": "service_healthy"}}, name


def test_database_has_a_named_volume(compose):
    assert "postgres-data:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]
    assert "postgres-data" in compose["volumes"]


def test_app_environment_uses_only_variables_the_settings_read(compose):
    known = _variables_read_by_settings()
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        assert set(environment) <= known, (name, sorted(set(environment) - known))
        assert environment["DEBUG"] == "0"


def test_database_url_points_at_the_postgres_service(compose):
    postgres = compose["services"]["postgres"]["environment"]
    parsed = dj_database_url.parse(
        _resolve(compose["services"]["web"]["environment"]["DATABASE_URL"])
    )

    assert parsed["ENGINE"] == "django.db.backends.postgresql"
    assert parsed["HOST"] == "postgres"
    assert parsed["NAME"] == postgres["POSTGRES_DB"]
    assert parsed["USER"] == postgres["POSTGRES_USER"]
    assert parsed["PASSWORD"] == _resolve(postgres["POSTGRES_PASSWORD"])


def test_redis_url_points_at_the_redis_service(compose):
    assert compose["services"]["worker"]["environment"]["REDIS_URL"] == "redis://redis:6379/0"


def test_secret_key_must_be_given(compose):
    assert (
        compose["services"]["web"]["environment"]["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"
    )


def test_dockerfile_collects_static_and_runs_gunicorn_unprivileged(dockerfile):
    assert "manage.py collectstatic --noinput" in dockerfile
    assert re.search(r"^USER app$", dockerfile, re.MULTILINE)
    assert 'CMD ["gunicorn", "comadvisor.wsgi:application"' in dockerfile
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert "STATIC_ROOT=/app/staticfiles" in dockerfile


def test_readme_documents_every_variable_the_settings_read():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, re.MULTILINE))

    assert sorted(_variables_read_by_settings() - documented) == []
