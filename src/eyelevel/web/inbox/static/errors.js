// What a refusal means for an agent, in the page's language; codes the messenger does not know
// first, then the messenger's own texts. Never the server's English detail.
import { ApiError } from "./messenger/api.js";
import { messageFor as messengerMessage } from "./messenger/errors.js";
import { t } from "./messenger/i18n.js";

const CODES = {
  second_factor_required: () => t("Enter the code from your authenticator app."),
  invalid_second_factor: () => t("This code is wrong or was already used."),
  invalid_mention: () => t("Only colleagues of this company can be mentioned."),
  invalid_label: () => t("This label does not exist (any more)."),
  invalid_owner: () => t("This colleague or team cannot take conversations here."),
  forbidden: () => t("Your role does not allow this."),
  insufficient_scope: () => t("This API token lacks the permission for this."),
  not_found: () => t("This was not found. It may have been deleted."),
  conflict: () => t("That is not possible right now."),
  slug_taken: () => t("This address is already taken."),
  mail_address_taken: () => t("Another company already receives mail at this address."),
  label_taken: () => t("There is already a label with this name."),
  team_taken: () => t("There is already a team with this name."),
  team_in_use: () => t("This team still has conversations. Assign them elsewhere first."),
  last_admin: () => t("A company needs at least one active admin."),
  webhook_url_forbidden: () =>
    t("This address is not reachable from the internet, so webhooks cannot be sent there."),
  invalid_event_type: () => t("Choose at least one event."),
  webhook_disabled: () => t("Enable the endpoint first."),
  invalid_status: () => t("This status change is not possible."),
  conversation_closed: () => t("This conversation is closed."),
  idempotency_conflict: () => t("This was already sent with different content. Please reload."),
  invalid_credentials: () => t("The email address or the password is wrong."),
  complaint_exists: () => t("This conversation already is a complaint case."),
  complaint_state: () => t("The case has moved on meanwhile. Please look again."),
  approval_required: () => t("This is beyond what you may grant: a lead has to approve it."),
  conversation_topic_taken: () => t("There is already a topic with this name."),
  conversation_topic_in_use: () =>
    t(
      "Conversations or routing rules use this topic, so it cannot be deleted. Switch it off instead: it is then no longer offered.",
    ),
  conversation_topic_required: () => t("Please choose a topic."),
  invalid_conversation_topic: () => t("This topic does not exist (any more)."),
  invalid_team: () => t("This team does not exist (any more). Choose another one."),
  conversation_restricted: () =>
    t("The customer has deleted their account: this conversation is read-only."),
};

const FIELDS = {
  snoozed_until: () => t("Choose a time in the future."),
  slug: () => t("The address may contain lower-case letters, digits and dashes."),
  color: () => t("Choose a colour."),
  name: () => t("Please enter a name."),
  email: () => t("Please enter a valid email address."),
  code: () => t("This code is wrong or has expired. Check that the time on your phone is right."),
  timezone: () => t("Choose a time zone."),
  business_hours: () => t("Check the business hours: each interval needs a start and an end."),
  shortcut: () => t("The shortcut may contain letters, digits and dashes."),
  body: () => t("Please check the text."),
  password: () => t("The password is wrong."),
  url: () => t("Enter a complete https:// address."),
  addresses: () => t("Check the email addresses: this server does not accept one of them."),
  "conditions.channels": () => t("Choose channels from the list."),
  "conditions.keywords": () =>
    t("Check the keywords: at most 50, each with at most 60 characters, one per line."),
  "conditions.languages": () =>
    t("Languages are short language codes such as de or en, separated by commas."),
  "conditions.business_hours": () => t("Choose when the rule applies."),
  "conditions.topic_ids": () => t("This topic does not exist (any more)."),
  max_open: () => t("The capacity is a number from 1 to 1000."),
  overrides: () => t("Each agent's own capacity is a number from 1 to 1000, or empty."),
  reason: () => t("Please give a reason (at most 1000 characters)."),
  team_id: () => t("Choose a team."),
  default_team_id: () => t("Choose a team."),
  topic_id: () => t("Choose a topic."),
};

export function messageFor(error) {
  if (error instanceof ApiError) {
    if (CODES[error.code]) return CODES[error.code]();
    if (error.field && FIELDS[error.field]) return FIELDS[error.field]();
  }
  return messengerMessage(error);
}
