/** The wire profile of an endpoint: AdCP 3.2 (current) or the legacy 3.0/3.1 profile (§a.7, §a.8). */
export type SigningProfileVersion = '3.1' | '3.2';

/** The advertised `covers_content_digest` posture (§d.3). 3.2 endpoints are always `required`. */
export type ContentDigestPolicy = 'required' | 'either' | 'forbidden';
