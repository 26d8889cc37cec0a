import { describe, expect, it } from 'vitest'
import { parseApiUrl } from '../src/datagouv/api-url.js'

describe('parseApiUrl', () => {
  it.each([
    'https://www.data.gouv.fr',
    'https://www.data.gouv.fr/',
    'https://www.data.gouv.fr/api/1',
    ' https://www.data.gouv.fr/api/1/ ',
  ])('accepts %j', (value) => {
    expect(parseApiUrl(value)).toEqual({
      origin: 'https://www.data.gouv.fr',
      apiRoot: 'https://www.data.gouv.fr/api/1',
    })
  })

  it.each([
    'http://localhost:7000',
    'http://127.0.0.1:7000',
    'http://[::1]:7000',
    'http://a.localhost',
  ])('accepts plain http to the loopback host of %j', (value) => {
    expect(parseApiUrl(value).origin).toBe(new URL(value).origin)
  })

  it.each([
    ['www.data.gouv.fr', /not a URL/],
    ['ftp://www.data.gouv.fr', /only https:\/\/ URLs/],
    ['http://www.data.gouv.fr', /plain http:\/\/ is only accepted for a loopback host/],
    ['http://127.0.0.1.example.org', /loopback/],
    ['https://user:secret@www.data.gouv.fr', /credentials in the URL/],
    ['https://www.data.gouv.fr/?x=1', /query or a fragment/],
    ['https://www.data.gouv.fr/api/2', /the URL must be the instance origin/],
  ])('refuses %j', (value, message) => {
    expect(() => parseApiUrl(value)).toThrow(message)
  })
})
