"""Every sentence a visitor or a person on the list reads, by key, in English.

The English is the msgid of kit/translations/<language>/LC_MESSAGES/messages.po; a page file's
``[text]`` table overrides any of them by key (``"thanks.heading" = "Du bist dabei!"``).
``{name}`` and the like are filled in when shown; text in ``[brackets]`` becomes a link. A pair
is a sentence with a number: (one, other), the language's plural rule choosing.

The founder's side (dashboard, CLI, digest) stays English and is not here.
"""

from __future__ import annotations

PAGE_DEFAULTS: list[str] = []  # the page file's default sentences (schema.py), by N_


def N_(text: str) -> str:  # noqa: N802 - the name gettext's tools look for
    """Marks a page file's default sentence (schema.py) for the catalogs; translated when shown
    (a founder's own sentence is not in them and stays as written)."""
    PAGE_DEFAULTS.append(text)
    return text


Text = str | tuple[str, str]

TEXTS: dict[str, Text] = {
    # Every visitor page
    "page.skip": "Skip to content",
    "page.back": "Back to {name}",
    "page.home": "Go to the home page",
    "page.footer": "Footer",
    "page.proof": ("Join {count} other on the waitlist.", "Join {count} others on the waitlist."),
    # The signup form
    "form.name": "Your name",
    "form.optional": "{label} (optional)",
    "form.answer": "Answer",
    "form.consent": "I agree",
    "form.leave_empty": "Leave this field empty",
    "form.email_missing": "Please enter your e-mail address.",
    "form.email_invalid": "Please enter a valid e-mail address, like name@example.com.",
    "form.email_no_mail": "The domain of that e-mail address takes no mail. Please check it.",
    "form.email_too_long": "That e-mail address is too long (254 characters at most).",
    "form.name_too_long": "Please keep the name under 100 characters.",
    "form.answer_too_long": "Please keep the answer under 1000 characters.",
    "form.consent_missing": "Please tick the box to agree before joining.",
    "form.number_invalid": "Please enter a number of 0 or more, like 12 or 1200.50.",
    "form.choice_invalid": "Please pick one of the answers.",
    "form.too_fast": "Almost there: please press the button once more to confirm.",
    "form.expired": "Your session expired or cookies are blocked. Please press the button again.",
    # After signing up
    "thanks.title": "{name} — thank you",
    "thanks.heading": "You're on the {name} list",
    "thanks.bookmark": "Bookmark [your private status page] to see your place later; we never "
    "show it to anyone else.",
    "inbox.title": "{name} — check your inbox",
    "inbox.heading": "Check your inbox",
    "inbox.text": "We've sent you an e-mail with a link. Follow it to confirm your address and "
    "see your place on the list. Nothing arrived? Look in your spam folder, or sign up again in "
    "a few minutes and we'll resend it.",
    "inbox.embedded": "Check your inbox: follow the link in our e-mail to confirm your address "
    "and take your place.",
    "already.title": "{name} — already on the list",
    "already.heading": "You're already on the list",
    "already.text": "That address is already on the waitlist, so there is nothing more to do. "
    "We'll write when it's ready.",
    "already.yours": "Is it yours? [Get your status link by e-mail].",
    # The place in line and sharing (thank-you and status pages)
    "share.place": "#{place}",
    "share.place_of": "your place of {size} on the list.",
    "share.newest": "The newest place — and the easiest to leave behind: bring a friend or two.",
    "share.confirm_first": "Confirm your address (the link in our e-mail) to take your place on "
    "the list.",
    "share.move_up": "Move up the list",
    "share.rule": (
        "Each friend who joins with your link moves you up {count} place.",
        "Each friend who joins with your link moves you up to {count} places.",
    ),
    "share.friends_so_far": "Friends who joined so far: {count}.",
    "share.to_reward": ("{count} friend to {reward}", "{count} friends to {reward}"),
    "share.projected": "you'd be about #{place}",
    "share.progress": "{friends} of {needed}",
    "share.link": "Your share link",
    "share.copy": "Copy link",
    "share.native": "Share…",
    "share.copied": "Link copied.",
    "share.copy_by_hand": "Press Ctrl+C (⌘C on a Mac) to copy the selected link.",
    "share.on": "Share your link on",
    "share.email": "E-mail",
    "share.rewards": "Rewards",
    "share.reward": ("{count} friend: {reward}", "{count} friends: {reward}"),
    "share.unlocked": "unlocked",
    # A goal's "coming soon" page and the embedded form
    "soon.title": "{label} — coming soon",
    "soon.heading": "Coming soon",
    "embed.title": "Join the {name} waitlist",
    # Back from paying a pre-order at Stripe
    "paid.title": "{name} — thank you for your pre-order",
    "paid.heading": "Thank you for your pre-order!",
    "paid.receipt": "Your payment went through: Stripe sends your receipt.",
    "paid.join_with_address": "Join the {name} waitlist with the address you paid with, to hear "
    "first when it's ready and to get your own share link.",
    "paid.join": "Join the {name} waitlist to hear first when it's ready and to get your own "
    "share link.",
    # The links in the mails: confirm, status, remove, unsubscribe
    "confirm.title": "{name} — confirm your address",
    "confirm.heading": "Confirm your place on the {name} list",
    "confirm.text": "One click and you're in: this is the last step.",
    "confirm.button": "Confirm my address",
    "confirm.expired": "This confirmation link has expired. Sign up again with the same address "
    "and we'll send a fresh one.",
    "confirm.invalid": "This confirmation link is not valid. Please use the newest link we sent.",
    "status.title": "{name} — your place on the list",
    "status.heading": "Your place on the {name} list",
    "status.your_data": "Your data",
    "status.download": "Download what we hold about you",
    "status.remove": "Remove me from the list",
    "status.invalid": "This status link is not valid (or the signup was removed).",
    "find.title": "{name} — find your place on the list",
    "find.heading": "Find your place on the list",
    "find.text": "Enter the address you signed up with and we'll e-mail you the link to your "
    "private status page.",
    "find.email": "Your e-mail address",
    "find.button": "Send me the link",
    "sent.title": "{name} — link sent",
    "sent.text": "If that address is on the list, we've sent it the link to its status page.",
    "remove.title": "{name} — remove me",
    "remove.heading": "Remove me from the {name} list",
    "remove.text": "This deletes your e-mail address, name and answers for good. We keep only an "
    "anonymous count so the page's statistics stay correct.",
    "remove.button": "Remove me",
    "removed.title": "{name} — removed",
    "removed.heading": "You're off the list",
    "removed.text": "Your e-mail address and everything you told us are deleted. Changed your "
    "mind? You can always sign up again.",
    "unsubscribe.title": "{name} — unsubscribe",
    "unsubscribe.heading": "Stop e-mails from {name}",
    "unsubscribe.text": "You keep your place on the list; we just won't write to you any more.",
    "unsubscribe.button": "Unsubscribe",
    "unsubscribe.done_title": "{name} — unsubscribed",
    "unsubscribe.done_heading": "You're unsubscribed",
    "unsubscribe.done_text": "We won't e-mail you any more. Your place on the list stays yours.",
    "link.invalid_heading": "This link is not valid",
    "link.invalid_text": "It may have been cut off, or the address was removed from the list "
    "already.",
    "link.invalid": "This link is not valid (or the signup was removed).",
    # Error pages
    "error.400": "We couldn't read that",
    "error.403": "Not allowed",
    "error.404": "Page not found",
    "error.405": "Not allowed here",
    "error.410": "Gone",
    "error.413": "That was too much at once",
    "error.429": "Too many attempts",
    "error.500": "Something went wrong",
    "error.503": "Back in a moment",
    "error.400_text": "Something in that request could not be read. Please go back and try again.",
    "error.404_text": "There is nothing at this address. Check the link, or start from the home "
    "page.",
    "error.405_text": "This address doesn't take that kind of request. Please use the page's own "
    "links.",
    "error.500_text": "Sorry, that didn't work. Nothing you sent was saved; please try again in a "
    "moment.",
    "error.503_text": "We couldn't answer for a moment. Please try again in a few seconds.",
    "error.form_expired": "This form has expired — please press the button again.",
    "error.being_fixed": "This page is being fixed. Please come back in a few minutes.",
    "error.database": "We couldn't reach our database for a moment, so nothing was saved. Please "
    "try again in a few seconds.",
    "error.form_only": "This address takes the page's form only. Please use the form on the page.",
    "error.form_unreadable": "Part of the form could not be read. Please send the form on the page "
    "again.",
    "error.no_files": "This form takes no files. Please send the form on the page again.",
    "error.too_large": "That was more than this form accepts ({size} KB at most). Please shorten "
    "what you typed and send it again.",
    "error.too_many": (
        "That's a lot of attempts from your network in a short time. Please wait {count} minute "
        "and try again; nothing you sent before was lost.",
        "That's a lot of attempts from your network in a short time. Please wait {count} minutes "
        "and try again; nothing you sent before was lost.",
    ),
    "error.no_preorders": "This page takes no pre-orders.",
    "error.no_such_preorder": "This page has no pre-order of that name.",
    "error.not_embeddable": "This page's form is not set up for embedding.",
    "error.own_page_only": "This form takes posts from its own page only. Please use the form "
    "itself.",
    # Mails to a person on the list (subjects, HTML and text bodies)
    "mail.hello": "Hello,",
    "mail.hello_name": "Hello {name},",
    "mail.why": "You get this because you joined the {name} waitlist.",
    "mail.stop": "Stop these e-mails",
    "mail.remove": "Remove me from the list",
    "mail.stop_text": "Stop these e-mails: {url}",
    "mail.remove_text": "Remove me: {url}",
    "mail.confirm_subject": "Please confirm: {name}",
    "mail.confirm_heading": "Confirm your address",
    "mail.confirm_text": "One click and you're on the {name} waitlist:",
    "mail.confirm_text_plain": "One click and you're on the {name} waitlist — confirm your "
    "address:",
    "mail.confirm_ignore": "If you didn't sign up, ignore this e-mail and nothing happens.",
    "mail.welcome_subject": "You're on the list: {name}",
    "mail.welcome_heading": "You're on the list!",
    "mail.welcome_heading_name": "You're on the list, {name}!",
    "mail.welcome_thanks": "Thank you for joining the {name} waitlist.",
    "mail.welcome_place_of": "your place of {size} on the list",
    "mail.welcome_place_plain": "Your place: #{place} of {size}.",
    "mail.welcome_reward": (
        "{count} more friend and you get {reward}.",
        "{count} more friends and you get {reward}.",
    ),
    "mail.welcome_share": "Share your link",
    "mail.welcome_share_plain": "Your link to share: {url}",
    "mail.welcome_status": "[Your private status page]: your place, and more ways to share.",
    "mail.welcome_status_plain": "Your private status page (your place, and more ways to share): "
    "{url}",
    "mail.status_subject": "Your place on the list: {name}",
    "mail.status_heading": "Your place on the list",
    "mail.status_text": "Here is the link to your place on the {name} waitlist. Keep it to "
    "yourself: it opens your private status page.",
    "mail.status_text_plain": "Here is the link to your place on the {name} waitlist:",
    "mail.status_button": "My status page",
}
