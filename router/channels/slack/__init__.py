"""Everything Slack, as Alertmanager keeps notify/slack/: the Web API client (client.py) and incoming webhooks
(webhook.py), user lookup for `<@U…>` mentions (users.py), one live card per issue or incident with its thread
(cards.py; a batch as one reply: digest.py; the card's status line: status.py) and the options of a `type: slack`
target (options.py).

The clients are imported where they are built (router.channels.build_channel): slack-sdk is slow to import.
"""
