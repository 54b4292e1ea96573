from django.urls import path, re_path

from social import posts, reviews, views

app_name = "social"

urlpatterns = [
    path(
        "restaurants/<int:restaurant_pk>/social/section/",
        views.restaurant_section,
        name="restaurant_section",
    ),
    path(
        "restaurants/<int:restaurant_pk>/social/",
        views.restaurant_social,
        name="restaurant_social",
    ),
    path(
        "restaurants/<int:restaurant_pk>/social/fetch/",
        views.restaurant_fetch,
        name="restaurant_fetch",
    ),
    path(
        "restaurants/<int:restaurant_pk>/social/profile/",
        views.profile_update,
        name="profile_update",
    ),
    path(
        "restaurants/<int:restaurant_pk>/social/accounts/new/",
        views.account_add,
        name="account_add",
    ),
    re_path(
        r"^restaurants/(?P<restaurant_pk>[0-9]+)/social/connect/(?P<provider>meta|google)/$",
        views.connect_start,
        name="connect_start",
    ),
    path(
        "social/connect/meta/callback/",
        views.connect_callback,
        {"provider": "meta"},
        name="connect_meta_callback",
    ),
    path(
        "social/connect/google/callback/",
        views.connect_callback,
        {"provider": "google"},
        name="connect_google_callback",
    ),
    path("social/connect/choose/", views.connect_choose, name="connect_choose"),
    path(
        "social/accounts/<int:pk>/disconnect/",
        views.account_disconnect,
        name="account_disconnect",
    ),
    path("social/health/", views.health, name="health"),
    path("social/posts/", posts.post_list, name="post_list"),
    path("social/posts/calendar/", posts.post_calendar, name="post_calendar"),
    path("social/posts/events/", posts.post_events, name="post_events"),
    path("social/posts/<int:pk>/", posts.post_edit, name="post_edit"),
    path("social/posts/<int:pk>/delete/", posts.post_delete, name="post_delete"),
    path(
        "restaurants/<int:restaurant_pk>/social/posts/new/",
        posts.post_create,
        name="post_create",
    ),
    path(
        "restaurants/<int:restaurant_pk>/social/posts/preview/",
        posts.post_preview,
        name="post_preview",
    ),
    path(
        "social/publications/<int:pk>/retry/",
        posts.publication_retry,
        name="publication_retry",
    ),
    path("social/images/<int:pk>/<str:token>/", posts.post_image, name="post_image"),
    path("reviews/", reviews.review_queue, name="review_queue"),
    path("reviews/<int:pk>/", reviews.review_detail, name="review_detail"),
]
