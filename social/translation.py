from modeltranslation.translator import TranslationOptions, register

from social.models import ReplyTemplate


@register(ReplyTemplate)
class ReplyTemplateTranslation(TranslationOptions):
    fields = ("name", "body")
