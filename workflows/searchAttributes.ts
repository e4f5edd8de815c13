import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// The contract's custom search attributes. No real party number is ever one of them.
export const OrderId = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
export const SubscriptionId = defineSearchAttributeKey('SubscriptionId', SearchAttributeType.KEYWORD);
export const BindingState = defineSearchAttributeKey('BindingState', SearchAttributeType.KEYWORD);
export const PrivacyNumberX = defineSearchAttributeKey('PrivacyNumberX', SearchAttributeType.KEYWORD);
export const PrivacyNumbersY = defineSearchAttributeKey('PrivacyNumbersY', SearchAttributeType.KEYWORD_LIST);
export const AreaCode = defineSearchAttributeKey('AreaCode', SearchAttributeType.KEYWORD);
export const ExpiresAt = defineSearchAttributeKey('ExpiresAt', SearchAttributeType.DATETIME);

/** Name → type as the dev server's `--search-attribute Name=Type` flag spells it. */
export const CUSTOM_SEARCH_ATTRIBUTES: Record<string, 'Keyword' | 'KeywordList' | 'Datetime'> = {
  OrderId: 'Keyword',
  SubscriptionId: 'Keyword',
  BindingState: 'Keyword',
  PrivacyNumberX: 'Keyword',
  PrivacyNumbersY: 'KeywordList',
  AreaCode: 'Keyword',
  ExpiresAt: 'Datetime',
};
