# The pages, error pages, form messages and default notifications in English.
# English is the reference catalog: every other catalog has exactly these
# messages with the same variables, and a message missing elsewhere falls
# back to this one.
#
# Messages are plain text: the pages escape what they get. A variable whose
# value a page shows in bold ($who, $action and $response below) stays one
# variable so that the page can put its markup around it.

## Badges: the small label at the top of a page.

badge-awaiting = Awaiting answer
badge-confirm = Please confirm
badge-sign-in-needed = Sign-in needed
badge-for-systems = For systems
badge-done = Done
badge-already-answered = Already answered
badge-expired = Expired
badge-invalid-link = Invalid link
badge-busy = Busy
badge-not-sent = Not sent
badge-not-allowed = Not allowed
badge-not-signed-in = Not signed in

## Before acting: the first sentence of a confirmation or review page.

lead-open = This request is still waiting for an answer. Check the details, then press the button.
lead-open-choices = This request is still waiting for an answer. Check the details, then press the button of your choice.
lead-unknown = Check the details, then press the button. If the request was already answered or has closed, the next page says so and nothing changes.
lead-unknown-choices = Check the details, then press the button of your choice. If the request was already answered or has closed, the next page says so and nothing changes.

## The confirmation page.

# $action: the action's label, or its name.
page-confirm-title = Confirm: { $action }
page-button-heartbeat = Send a heartbeat
# $action: the action's name.
page-button-confirm = Confirm: { $action }
page-field-action = Action
page-field-expires = Link expires
# $who: the signed-in person, shown in bold.
page-signed-in-as = Signed in as { $who }
page-comment = Comment
page-comment-optional = Comment (optional)
# $max: the most characters the comment may have.
page-comment-limit =
    { $max ->
        [one] (up to { $max } character)
       *[other] (up to { $max } characters)
    }

## The review page: every choice of one request.

page-review-title = Review and decide
page-review-named-approvers = Some choices are for named approvers.
page-sign-in-to-continue = Sign in to continue
page-choice-sign-in-first = Only named approvers can choose this: sign in first.
# $who: the signed-in person.
page-refusal-not-an-approver = { $who } is not among the approvers.
# $who: the signed-in person.
page-refusal-requester = { $who } asked for this decision, so someone else must make it.
# Stands for $who when the page does not know the person's name.
page-refusal-someone = The person signed in

## The sign-in page of a link bound to approvers.

page-sign-in-lead = This request is for named approvers. Sign in to see who you are signed in as, then confirm.
page-sign-in-lead-open = This request is for named approvers. Sign in to see who you are signed in as, then confirm. It is still waiting for an answer.

## A POST action's link opened in a browser.

page-systems-title = This link is for systems
# $action: the action's name, shown in bold.
page-systems-lead = The action { $action } is answered by a program that sends a POST with a JSON body to this URL. Opening it in a browser does nothing.

## After a successful answer.

page-accepted-title = Response accepted!
# $response: the action's label, or its name, shown in bold.
page-accepted-lead = Your response { $response } was recorded. You can close this page.
page-your-comment = Your comment:
# $id: the transaction id of the CreateUrls call.
page-transaction = Transaction { $id }
# $action: the action's name; $type: its type (the technical names, for support).
page-support = For support: action { $action } ({ $type })
# $action: the action's name; $type: its type; $id: the transaction id.
page-support-transaction = For support: action { $action } ({ $type }), transaction { $id }
# $who: who asked for the decision (a name or an email).
page-requested-by = Requested by { $who }

## Error pages: a title and advice per kind of error.

error-already-answered-title = This request was already answered
error-already-answered-advice = Someone already responded, or the task finished or timed out. Nothing was changed.
error-expired-title = This link has expired
error-expired-advice = Ask whoever sent it for a new one. Nothing was changed.
# $when: when the link expired, written as the confirmation page writes it.
error-expired-when = It expired on { $when }.
error-invalid-link-title = This link is not valid
error-invalid-link-advice = It may have been cut short or changed on the way. Open the original message and use the whole link. Nothing was changed.
error-busy-title = Please try again in a moment
error-busy-advice = The service could not reach AWS just now. Your link still works: go back and press the button again.
error-slack-busy-advice = Slack could not say who pressed just now, so nothing was sent. Press the button again in a moment.
error-provider-busy-advice = The sign-in service could not be reached just now, so nothing was sent. Your link still works: open it again in a moment.
error-too-many-title = Too many requests
error-too-many-advice = This browser made too many requests in a short time. Nothing was changed. Wait a minute, then open the link again.
error-bad-comment-title = Please check your comment
error-bad-comment-advice = Go back, change the comment and send it again. Nothing was changed.
error-bad-form-title = Please check the form
error-not-an-approver-title = You cannot answer this request
error-not-an-approver-advice = This link is for named approvers, and the person signed in may not answer it. Nothing was changed.
error-sign-in-required-title = Please sign in first
error-sign-in-required-advice = This link is for named approvers. Open it again to sign in. Nothing was changed.
error-sign-in-failed-title = Sign-in did not complete
error-sign-in-failed-advice = Nothing was changed. Open the link from the original message again to retry.
error-rejected-title = Response rejected
error-rejected-advice = Nothing was changed.
error-sign-out = Sign out and use another account
# $message: what went wrong (not translated); $code: the error name; $status: the HTTP status.
error-details = For support: { $message } ({ $code }, { $status })

## Forms: labels, controls and what is wrong with a value.
## In English, what is wrong with a value reads as it does in JSON answers,
## after the field's name there ("count: must be at most 5"), so it starts
## in lower case and ends without a full stop.

form-optional = (optional)
form-correct-fields = Your answer was not sent: please correct the fields marked below, then press the button again.
# $count: how many fields need a change (1 or more).
form-fields-to-change =
    { $count ->
        [one] { $count } field needs a change.
       *[other] { $count } fields need a change.
    }
form-yes = Yes
form-no = No
form-choose = Choose…
form-required = is required
form-sent-twice = was sent more than once
form-whole-number = must be a whole number
form-number = must be a number
# $min: the fewest characters allowed.
form-min-length =
    { $min ->
        [one] must be at least { $min } character
       *[other] must be at least { $min } characters
    }
# $max: the most characters allowed.
form-max-length =
    { $max ->
        [one] must be at most { $max } character
       *[other] must be at most { $max } characters
    }
form-pattern = is not in the expected form
form-choice = must be one of the choices
form-email = must be an email address
form-date = must be a date (YYYY-MM-DD)
form-date-time = must be a date and time with its offset
form-uri = must be an absolute address (https://...)
# $min: the smallest value allowed.
form-minimum = must be at least { $min }
# $max: the largest value allowed.
form-maximum = must be at most { $max }
# $step: the value must be a multiple of this.
form-multiple-of = must be a multiple of { $step }
form-boolean = must be true or false
form-text = must be text
# $keyword: the JSON Schema keyword the value breaks.
form-unfit = does not fit the form ({ $keyword })
# $name: a field name the form does not have.
form-unknown-field = "{ $name }" is not a field of this form
# $keyword: the JSON Schema keyword the values break.
form-values-unfit = the values do not fit the form ({ $keyword })
form-not-an-object = the form's values must be a JSON object
form-not-taken = this action takes no form

## The default notification (email subject, text and HTML; SNS message).

notify-subject = Your decision is needed
notify-waiting = A workflow is waiting for your decision.
notify-review = Review and decide
# $expiration: when the links stop working.
notify-expires = These links stop working at { $expiration }.

## Slack

slack-decided = { $action } chosen by { $who } · { $when }
slack-modal-title = Your answer
slack-modal-send = Send
slack-modal-cancel = Cancel
slack-unconfirmed = The workflow did not confirm the answer in time, so it may or may not have been recorded. Press the button again to find out: an answer is never recorded twice.
slack-not-a-link = This button does not hold a link this service can open. Nothing was changed.
slack-heartbeat-sent = Heartbeat sent: the workflow knows the task is still being worked on. Nothing was decided.
