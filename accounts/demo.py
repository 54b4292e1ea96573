"""Demo users: one login per role, for the embedded mode."""

from dataclasses import dataclass

from accounts import services
from accounts.enums import RoleName
from accounts.models import User


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: RoleName
    language: str = "fr"

    @property
    def password(self) -> str:
        return f"demo-{self.username}"

    @property
    def email(self) -> str:
        return f"{self.username.replace('_', '.')}@comadvisor.example"


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Alice", "Martin", RoleName.ADMIN),
    DemoUser("direction", "Bernard", "Lefèvre", RoleName.DIRECTION),
    DemoUser("client_manager", "Chloé", "Dubois", RoleName.CLIENT_MANAGER),
    DemoUser("sales_agent", "David", "Moreau", RoleName.SALES_AGENT),
    DemoUser("community_manager", "Emma", "Laurent", RoleName.COMMUNITY_MANAGER),
    DemoUser("review_manager", "Farid", "Benali", RoleName.REVIEW_MANAGER, language="en"),
    DemoUser("accountant", "Gaëlle", "Petit", RoleName.ACCOUNTANT),
)


def seed() -> list[tuple[DemoUser, bool]]:
    """Create the missing demo users; returns each with whether it was created now."""
    existing = set(
        User.objects.filter(username__in=[u.username for u in DEMO_USERS]).values_list(
            "username", flat=True
        )
    )
    result = []
    for demo in DEMO_USERS:
        created = demo.username not in existing
        if created:
            services.user_create(
                by=None,
                username=demo.username,
                email=demo.email,
                first_name=demo.first_name,
                last_name=demo.last_name,
                language=demo.language,
                roles=[demo.role],
                password=demo.password,
            )
        result.append((demo, created))
    return result
