"""New messages of branch sharedlimits (issue 17, item 3), with their Japanese translations."""

JA = {
    "You have made too many requests in a short time. Try again in %(minutes)s minutes.":
        "短時間に多くのリクエストがありました。%(minutes)s分後にもう一度お試しください。",
}
