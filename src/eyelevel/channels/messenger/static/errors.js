// What a refusal means, in the customer's language. Never the server's English detail text.
import { ApiError, OfflineError } from "./api.js";
import { t } from "./i18n.js";

const FIELDS = {
  email: () => t("Please enter a valid email address."),
  password: () => t("The password needs at least 10 characters."),
  display_name: () => t("Please enter your name."),
  body: () => t("Please check your message."),
  phone: () => t("Please enter a valid phone number."),
};

const CODES = {
  body_empty: () => t("Write a message first."),
  body_too_long: () => t("A message can have at most 10,000 characters."),
  attachment_too_large: () => t("This file is larger than 10 MB."),
  payload_too_large: () => t("This file is larger than 10 MB."),
  unsupported_media_type: () => t("Only photos (JPEG, PNG, WebP, HEIC) and PDF files can be sent."),
  invalid_file: () => t("This file could not be read. It may be damaged."),
  email_taken: () => t("There is already an account with this email address. Please sign in."),
  invalid_credentials: () => t("The email address or the password is wrong."),
  email_not_verified: () => t("Please confirm your email address first: we sent you a link."),
  unauthenticated: () => t("Please sign in again."),
  rate_limited: () => t("Too many attempts. Please wait a moment."),
  not_found: () => t("This was not found."),
  conflict: () => t("That is not possible right now."),
  csrf_failed: () => t("Please reload the page and try again."),
  feedback_not_requested: () => t("Feedback requests from this company are switched off."),
  conversation_not_resolved: () => t("You can rate the conversation once it is resolved."),
  callback_slot_full: () => t("This time was just taken. Please choose another one."),
  callback_slot_invalid: () => t("This time is no longer available. Please choose another one."),
  callback_active: () => t("A callback is already booked in this conversation."),
  callback_state: () => t("This callback cannot be changed any more."),
  phone_required: () => t("Please enter your phone number."),
  conversation_topic_required: () => t("Please choose what your message is about."),
  invalid_conversation_topic: () => t("This topic is no longer offered. Please choose another one."),
};

export function messageFor(error) {
  if (error instanceof OfflineError) {
    return t("You are offline. Please try again when you are back online.");
  }
  if (error instanceof ApiError) {
    if (error.code === "validation_error" && error.field && FIELDS[error.field]) {
      return FIELDS[error.field]();
    }
    if (error.code === "validation_error") return t("Please check your input.");
    if (CODES[error.code]) return CODES[error.code]();
  }
  return t("Something went wrong. Please try again.");
}
